/**
 * Architecture 1, S3 → EventBridge → SQS → Lambda → RDS Proxy → PostgreSQL: the inbox bucket and its
 * access-log bucket, the ingest queue and its DLQ, the rule that queues new objects, and the ingest function.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import { grantRunTask, HAND_OVER_CONTAINER, HandOverTask } from '../constructs/hand-over-task.js';
import { InboxBucket } from '../constructs/inbox-bucket.js';
import { InboxEvents } from '../constructs/inbox-events.js';
import { IngestFunction } from '../constructs/ingest-function.js';
import { IngestQueue } from '../constructs/ingest-queue.js';
import { LogBucket } from '../constructs/log-bucket.js';
import { acknowledge } from '../nag.js';
import { OUTPUTS } from '../output-names.js';
import type { PipelineConfigFacts } from '../pipeline-config.js';
import type { InletSettings } from '../settings.js';
import type { DataStack } from './data-stack.js';
import type { NetworkStack } from './network-stack.js';

export interface ServerlessStackProps extends StackProps {
  readonly settings: InletSettings;
  readonly pipelines: PipelineConfigFacts;
  readonly network: NetworkStack;
  readonly data: DataStack;
}

export class ServerlessStack extends Stack {
  readonly inbox: s3.Bucket;
  readonly ingest: IngestFunction;
  readonly queues: IngestQueue;
  readonly handOver: HandOverTask;

  constructor(scope: Construct, id: string, props: ServerlessStackProps) {
    super(scope, id, props);
    const { settings, network, data, pipelines } = props;
    const timeout = Duration.seconds(settings.lambda.timeoutSeconds);

    const accessLogs = new LogBucket(this, 'AccessLogs');
    this.inbox = new InboxBucket(this, 'Inbox', {
      accessLogs: accessLogs.bucket,
    }).bucket;
    this.queues = new IngestQueue(this, 'Ingest', { functionTimeout: timeout });
    new InboxEvents(this, 'InboxEvents', { inbox: this.inbox, queue: this.queues.queue });
    acknowledgeNotificationsHandler(this);

    const config = new s3assets.Asset(this, 'PipelineConfig', { path: pipelines.path });
    this.ingest = new IngestFunction(this, 'IngestFunction', {
      codeDir: settings.lambda.codeDir,
      vpc: network.vpc,
      subnets: network.appSubnets,
      inbox: this.inbox,
      queue: this.queues.queue,
      config,
      pipelines,
      databaseSecret: data.ingestSecret,
      proxy: data.proxy,
      proxySecurityGroup: data.proxySecurityGroup,
      ingestionEvents: data.ingestionEvents,
      timeout,
      memoryMiB: settings.lambda.memoryMiB,
      concurrency: settings.lambda.concurrency,
      batchSize: settings.lambda.batchSize,
    });

    this.handOver = new HandOverTask(this, 'HandOver', {
      imageDir: settings.lambda.taskImageDir,
      vpc: network.vpc,
      subnets: network.appSubnets,
      inbox: this.inbox,
      config,
      databaseSecret: data.ingestSecret,
      proxy: data.proxy,
      proxySecurityGroup: data.proxySecurityGroup,
      ingestionEvents: data.ingestionEvents,
      cpu: settings.lambda.taskCpu,
      memoryMiB: settings.lambda.taskMemoryMiB,
      ephemeralStorageGiB: settings.lambda.taskStorageGiB,
    });
    // The function's side of the hand-over (src/serverless/settings.ts, docs/environment.md).
    const handOverEnvironment: Record<string, string> = {
      INLET_HANDOVER_CLUSTER: this.handOver.cluster.clusterArn,
      INLET_HANDOVER_TASK_DEFINITION: this.handOver.taskDefinition.taskDefinitionArn,
      INLET_HANDOVER_CONTAINER: HAND_OVER_CONTAINER,
      INLET_HANDOVER_SUBNETS: network.vpc.selectSubnets(network.appSubnets).subnetIds.join(','),
      INLET_HANDOVER_SECURITY_GROUPS: this.handOver.securityGroup.securityGroupId,
      INLET_TASK_MAX_BYTES: String(this.handOver.maxBytes),
    };
    for (const [name, value] of Object.entries(handOverEnvironment)) {
      this.ingest.function.addEnvironment(name, value);
    }
    grantRunTask(this.handOver, this.ingest.role);

    new CfnOutput(this, OUTPUTS.inboxBucket, {
      value: this.inbox.bucketName,
      description: 'Upload files here (aws s3 cp FILE s3://BUCKET/KEY); each new object is ingested',
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.queues.deadLetterQueue.queueUrl });
  }
}

/** CDK's singleton custom resource that writes the bucket's notification configuration. */
function acknowledgeNotificationsHandler(stack: Stack): void {
  const handler = stack.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
  if (handler === undefined) throw new Error("CDK's bucket notifications handler was not found");
  acknowledge(
    handler,
    'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    "CDK's own bucket-notifications custom resource (a deploy-time function that runs once per change); " +
      'its only other permission, s3:PutBucketNotification, is scoped to the inbox bucket.',
  );
}
