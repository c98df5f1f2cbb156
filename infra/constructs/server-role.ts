/**
 * The instances' role: Session Manager (the AWS-managed core policy, instead of SSH), the two CDK assets
 * it downloads, the database secret, the ingestion topic, its own log groups, and CloudWatch metrics
 * in the agent's namespace only; and what `inlet-node` does (allowNodeDuties): read the release, attach
 * and detach this stack's spool volumes, ask a sibling to release one, join and leave the target groups,
 * read the SFTP host key (and store it, the first time), and signal its own creation.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource } from '../nag.js';
import { AGENT_NAMESPACE } from '../server-files.js';
import type { ServerRelease } from './server-release.js';

export interface ServerRoleProps {
  readonly assets: readonly s3assets.Asset[];
  readonly databaseSecret: secretsmanager.ISecret;
  readonly ingestionEvents: sns.ITopic;
  readonly logGroups: readonly logs.LogGroup[];
}

export class ServerRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ServerRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Inlet server instances: Session Manager, assets, database secret, logs and metrics',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    for (const asset of props.assets) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)],
        }),
      );
    }
    props.databaseSecret.grantRead(this.role);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.ingestionEvents.topicArn] }),
    );
    for (const logGroup of props.logGroups) {
      const streams = `${logGroup.logGroupArn}:*`;
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [streams],
        }),
      );
      acknowledgeWildcardResource(
        this.role,
        streams,
        'The CloudWatch agent creates one log stream per instance in this log group; the grant is limited to ' +
          'the log groups this stack creates for the service.',
      );
    }
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': AGENT_NAMESPACE } },
      }),
    );
    acknowledge(
      this.role,
      'IAM5[Resource::*]',
      'cloudwatch:PutMetricData has no resource-level permissions (it only accepts "*"); the statement is ' +
        'limited to the CloudWatch agent namespace with the cloudwatch:namespace condition. ' +
        'ec2:DescribeVolumes and elasticloadbalancing:DescribeTargetHealth are read-only and accept only "*".',
    );
    acknowledge(
      this.role,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      'Session Manager replaces SSH (no key pair, no open port); AmazonSSMManagedInstanceCore is the ' +
        'AWS-maintained minimum the SSM agent needs, and AWS updates it with the agent.',
    );
  }

  /**
   * What `inlet-node` does on an instance. Sibling instances are named by the `serverTag` this stack puts
   * on its instances: one instance may stop another's service and take its spool only through
   * `releaseSpoolDocument`, which does nothing else.
   */
  allowNodeDuties(props: {
    readonly release: ServerRelease;
    readonly spools: readonly ec2.IVolume[];
    /** The upload load balancer's and the SFTP load balancer's. */
    readonly targetGroups: readonly elbv2.ITargetGroup[];
    /** Read at every `up`; written once, by the first instance, when it still holds its placeholder. */
    readonly sftpHostKey: secretsmanager.ISecret;
    readonly serverTag: string;
  }): void {
    const stack = Stack.of(this);
    const siblings = stack.formatArn({
      service: 'ec2',
      resource: 'instance',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const { release } = props;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [release.bundleParameter, release.configParameter, release.environmentParameter].map(
          (parameter) => parameter.parameterArn,
        ),
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:AttachVolume', 'ec2:DetachVolume'],
        resources: props.spools.map((spool) =>
          stack.formatArn({
            service: 'ec2',
            resource: 'volume',
            resourceName: spool.volumeId,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        ),
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:AttachVolume', 'ec2:DetachVolume'],
        resources: [siblings],
        conditions: { StringEquals: { [`aws:ResourceTag/${props.serverTag}`]: stack.stackName } },
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:SendCommand'],
        resources: [
          stack.formatArn({
            service: 'ssm',
            resource: 'document',
            resourceName: release.releaseSpoolDocument.ref,
          }),
        ],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:SendCommand'],
        resources: [siblings],
        conditions: { StringEquals: { [`ssm:resourceTag/${props.serverTag}`]: stack.stackName } },
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
        resources: props.targetGroups.map((group) => group.targetGroupArn),
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
        resources: [props.sftpHostKey.secretArn],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:DescribeVolumes', 'elasticloadbalancing:DescribeTargetHealth'],
        resources: ['*'],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudformation:SignalResource'],
        resources: [
          stack.formatArn({
            service: 'cloudformation',
            resource: 'stack',
            resourceName: `${stack.stackName}/*`,
          }),
        ],
      }),
    );
    acknowledgeWildcardResource(
      this.role,
      siblings,
      'Instance ids change with every replacement, so the instances are named by condition instead: only ' +
        `instances carrying ${props.serverTag}=<this stack> (attach and detach of this stack's spool volumes, ` +
        'and the release-spool document, the only one this role may send).',
    );
    acknowledgeWildcardResource(
      this.role,
      stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${stack.stackName}/*` }),
      "A stack's ARN ends in an id CloudFormation assigns at creation; the name is this stack's own, and the " +
        'only action is SignalResource, which CloudFormation accepts only for resources awaiting a signal.',
    );
  }
}
