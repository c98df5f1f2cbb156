/**
 * What the instances run, kept apart from the instances: the release (the server bundle's and the pipeline
 * config's s3:// URLs and the service's environment file) in SSM parameters, which `inlet-node up` reads at
 * every boot, and a State Manager association that runs `inlet-node up` again whenever the release changes,
 * on one instance at a time (each leaves the load balancer, installs, passes /healthz and rejoins before the
 * next starts), with CloudFormation waiting for it: a release that fails on the first instance stops there
 * and fails the deploy, whose rollback puts the previous release back the same way. A deploy therefore
 * never stops and starts the instances, and never takes them all out at once.
 *
 * Also the document a replacement instance sends to the instance holding its spool volume
 * (`inlet-node release-spool`).
 */
import { createHash } from 'node:crypto';
import { Duration } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { environmentFile, type ServerEnvironment } from '../server-files.js';
import { NODE_SCRIPT_PATH } from '../server-node-script.js';

export interface ServerReleaseProps {
  /** s3:// URL of the zipped server bundle (CDK asset). */
  readonly bundleUrl: string;
  /** s3:// URL of the pipeline config (CDK asset). */
  readonly configUrl: string;
  readonly environment: ServerEnvironment;
}

/** How long one instance may take to drain, install, pass /healthz and rejoin. */
const PER_INSTANCE = Duration.minutes(15);

export class ServerRelease extends Construct {
  readonly bundleParameter: ssm.StringParameter;
  readonly configParameter: ssm.StringParameter;
  readonly environmentParameter: ssm.StringParameter;
  readonly updateDocument: ssm.CfnDocument;
  readonly releaseSpoolDocument: ssm.CfnDocument;
  /** One line that changes whenever the release does: the association runs again when it changes. */
  readonly fingerprint: string;

  constructor(scope: Construct, id: string, props: ServerReleaseProps) {
    super(scope, id);
    // Generated names: a fixed one would collide with a deployment that used the same prefix.
    this.bundleParameter = new ssm.StringParameter(this, 'Bundle', {
      description: 'Inlet server: s3:// URL of the server bundle the instances run',
      stringValue: props.bundleUrl,
    });
    this.configParameter = new ssm.StringParameter(this, 'Config', {
      description: 'Inlet server: s3:// URL of the pipeline config the instances run with',
      stringValue: props.configUrl,
    });
    this.environmentParameter = new ssm.StringParameter(this, 'Environment', {
      description: 'Inlet server: /etc/inlet/inlet.env (settings and the secret ARN, no secret)',
      stringValue: environmentFile(props.environment),
    });
    const { region, databaseHost, databaseSecretArn, eventsTopicArn } = props.environment;
    this.fingerprint = [
      props.bundleUrl,
      props.configUrl,
      region,
      databaseHost,
      databaseSecretArn,
      eventsTopicArn,
      // The file's fixed lines change only with this code: a digest of them with placeholder values.
      createHash('sha256')
        .update(
          environmentFile({ region: 'r', databaseHost: 'h', databaseSecretArn: 's', eventsTopicArn: 't' }),
        )
        .digest('hex')
        .slice(0, 12),
    ].join(' ');

    this.updateDocument = runCommandDocument(this, 'Update', {
      description: 'Inlet: install the current release on this instance and rejoin the load balancer',
      parameters: {
        release: {
          type: 'String',
          description: 'The release being rolled out (bundle and config URLs, environment): logged only',
          allowedPattern: RELEASE_PATTERN,
        },
      },
      commands: ["echo 'inlet release: {{ release }}'", `${NODE_SCRIPT_PATH} up`],
      timeout: PER_INSTANCE,
    });
    this.releaseSpoolDocument = runCommandDocument(this, 'ReleaseSpool', {
      description: 'Inlet: leave the load balancer, stop the service and detach the spool for a replacement',
      parameters: {},
      commands: [`${NODE_SCRIPT_PATH} release-spool`],
      timeout: Duration.minutes(5),
    });
  }

  /** Rolls the release out to these instances, one at a time, CloudFormation waiting for the last one. */
  rollOut(instanceIds: readonly string[]): ssm.CfnAssociation {
    const association = new ssm.CfnAssociation(this, 'RollOut', {
      name: this.updateDocument.ref,
      targets: [{ key: 'InstanceIds', values: [...instanceIds] }],
      parameters: { release: [this.fingerprint] },
      maxConcurrency: '1',
      maxErrors: '0',
      // The document's newest version: NewVersion updates would otherwise leave the association on the old one.
      documentVersion: '$LATEST',
      waitForSuccessTimeoutSeconds: PER_INSTANCE.toSeconds() * instanceIds.length + 300,
    });
    // The instances must read the new values when the association runs `inlet-node up`.
    association.node.addDependency(this.bundleParameter, this.configParameter, this.environmentParameter);
    return association;
  }
}

/** S3 URLs, ARNs, host names and a hex digest: nothing that could end the quoted `echo`. */
const RELEASE_PATTERN = '^[A-Za-z0-9:/._ +=@-]+$';

function runCommandDocument(
  scope: Construct,
  id: string,
  props: {
    description: string;
    parameters: Record<string, unknown>;
    commands: string[];
    timeout: Duration;
  },
): ssm.CfnDocument {
  return new ssm.CfnDocument(scope, id, {
    documentType: 'Command',
    updateMethod: 'NewVersion',
    content: {
      schemaVersion: '2.2',
      description: props.description,
      parameters: props.parameters,
      mainSteps: [
        {
          action: 'aws:runShellScript',
          name: id.replace(/^./, (c) => c.toLowerCase()),
          inputs: { runCommand: props.commands, timeoutSeconds: String(props.timeout.toSeconds()) },
        },
      ],
    },
  });
}
