/**
 * What the original design lists as extensions: the REST API for presigned uploads and ingestion status
 * (with the serverless shape), the operations dashboard, and alarms on an encrypted alarm topic.
 * The ingestion-events topic lives in the Data stack, because both shapes' workloads publish to it.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { AlarmTopic } from '../constructs/alarm-topic.js';
import { OpsAlarms } from '../constructs/ops-alarms.js';
import { OpsDashboard } from '../constructs/ops-dashboard.js';
import { type ServerlessTargets, type ServerTargets, sftpFailedSignIns } from '../constructs/ops-metrics.js';
import { SFTP_FAILED_SIGN_INS_METRIC } from '../constructs/sftp-failed-sign-ins.js';
import { UploadApi } from '../constructs/upload-api.js';
import { OUTPUTS } from '../output-names.js';
import type { InletSettings } from '../settings.js';
import type { BackupsStack } from './backups-stack.js';
import type { DataStack } from './data-stack.js';
import type { NetworkStack } from './network-stack.js';
import type { ServerStack } from './server-stack.js';
import type { ServerlessStack } from './serverless-stack.js';

export interface ExtensionsStackProps extends StackProps {
  readonly settings: InletSettings;
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly backups: BackupsStack;
  readonly serverless: ServerlessStack | undefined;
  readonly server: ServerStack | undefined;
}

export class ExtensionsStack extends Stack {
  readonly api: UploadApi | undefined;
  readonly alarmTopic: AlarmTopic;
  readonly alarms: OpsAlarms;
  readonly dashboard: OpsDashboard;

  constructor(scope: Construct, id: string, props: ExtensionsStackProps) {
    super(scope, id, props);
    const { settings, network, data, serverless, server } = props;

    this.api =
      serverless === undefined
        ? undefined
        : new UploadApi(this, 'Api', {
            vpc: network.vpc,
            subnets: network.appSubnets,
            // Imported by an explicit export: the API's policies, and their cdk-nag findings, then name
            // the same import whatever construct reads the bucket's ARN.
            inbox: s3.Bucket.fromBucketArn(this, 'Inbox', serverless.exportValue(serverless.inbox.bucketArn)),
            maxUploadBytes: settings.apiMaxUploadBytes,
            databaseSecret: data.statusSecret,
            proxy: data.proxy,
            proxySecurityGroup: data.proxySecurityGroup,
            createAccountLoggingRole: settings.apiGatewayLoggingRole,
          });

    if (serverless) this.addStackDependency(serverless);
    const serverlessTargets: ServerlessTargets | undefined = serverless && {
      function: serverless.ingest.function,
      queue: serverless.queues.queue,
      deadLetterQueue: serverless.queues.deadLetterQueue,
      failedTasks: serverless.handOver.failedTasks,
    };
    const serverTargets: ServerTargets | undefined = server && {
      instances: server.servers.map((one) => one.instance),
      sftpFailedSignIns: sftpFailedSignIns(SFTP_FAILED_SIGN_INS_METRIC),
      loadBalancer: server.loadBalancer.loadBalancer,
      targetGroup: server.loadBalancer.targetGroup,
    };

    this.alarmTopic = new AlarmTopic(this, 'Alarms', { emails: settings.alarmEmails });
    this.alarms = new OpsAlarms(this, 'Alarm', {
      topic: this.alarmTopic.topic,
      database: data.database,
      databaseInstanceClass: settings.database.instanceClass,
      databaseStorageGiB: settings.database.allocatedStorageGiB,
      proxyName: data.proxy.dbProxyName,
      vault: props.backups.vault,
      rotatedSecrets: data.rotatedSecrets,
      ...(serverlessTargets
        ? {
            serverless: {
              ...serverlessTargets,
              functionTimeout: Duration.seconds(settings.lambda.timeoutSeconds),
            },
          }
        : {}),
      ...(serverTargets ? { server: serverTargets } : {}),
    });
    this.dashboard = new OpsDashboard(this, 'Ops', {
      database: data.database,
      proxyName: data.proxy.dbProxyName,
      vault: props.backups.vault,
      ...(serverlessTargets ? { serverless: serverlessTargets } : {}),
      ...(serverTargets ? { server: serverTargets } : {}),
    });

    if (this.api) {
      new CfnOutput(this, OUTPUTS.apiUrl, {
        value: this.api.api.url,
        description: 'POST uploads, GET ingestions (SigV4)',
      });
      new CfnOutput(this, 'ApiClientPolicyArn', {
        value: this.api.clientPolicy.managedPolicyArn,
        description: 'Attach to the IAM role of each client that uploads through the API',
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topic.topicArn });
  }
}
