/**
 * The ingest Lambda (src/serverless/lambda.ts, bundled by `npm run build:lambda`): Node 22, in the VPC,
 * concurrency capped twice (reserved concurrency, and the SQS event source's maximum concurrency so that
 * the cap never turns into throttled receives that push healthy messages towards the DLQ), fed by the
 * ingest queue with per-message failure reports, and a role that can do exactly what the handler does.
 */
import { type Duration, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '../nag.js';
import type { PipelineConfigFacts } from '../pipeline-config.js';
import { PROCESSED_PREFIX, REJECTED_PREFIX } from './inbox-bucket.js';
import { ProxyAccess } from './proxy-access.js';
import { VpcFunction } from './vpc-function.js';

export interface IngestFunctionProps {
  readonly codeDir: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly inbox: s3.Bucket;
  readonly queue: sqs.IQueue;
  readonly config: s3assets.Asset;
  readonly pipelines: PipelineConfigFacts;
  readonly databaseSecret: secretsmanager.ISecret;
  readonly proxy: rds.IDatabaseProxy;
  readonly proxySecurityGroup: ec2.ISecurityGroup;
  readonly ingestionEvents: sns.ITopic;
  readonly timeout: Duration;
  readonly memoryMiB: number;
  readonly concurrency: number;
  readonly batchSize: number;
}

export class IngestFunction extends VpcFunction {
  constructor(scope: Construct, id: string, props: IngestFunctionProps) {
    super(scope, id, {
      description: 'Inlet: loads each new inbox object into PostgreSQL, exactly once',
      roleDescription: 'Inlet ingest function: reads inbox objects, loads them through RDS Proxy',
      securityGroupDescription: 'Inlet ingest function: PostgreSQL to the proxy, HTTPS to the VPC endpoints',
      code: lambda.Code.fromAsset(props.codeDir),
      vpc: props.vpc,
      subnets: props.subnets,
      timeout: props.timeout,
      memorySize: props.memoryMiB,
      reservedConcurrentExecutions: props.concurrency,
      environment: {
        INLET_CONFIG: props.config.s3ObjectUrl,
        // The app reads the credentials from the secret (docs/environment.md) and connects to the proxy with TLS.
        INLET_DATABASE_SECRET_ARN: props.databaseSecret.secretArn,
        INLET_DATABASE_HOST: props.proxy.endpoint,
        PGSSLMODE: 'verify-full',
        INLET_NOTIFY_TOPIC_ARN: props.ingestionEvents.topicArn,
      },
    });
    this.function.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: props.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: props.concurrency,
      }),
    );
    new ProxyAccess(this, 'ProxyAccess', {
      proxySecurityGroup: props.proxySecurityGroup,
      from: this.securityGroup,
      description: 'PostgreSQL from the Inlet ingest function',
    });
    this.grant(props);
  }

  /** Exactly the calls the handler makes (src/serverless/handler.ts, src/storage/s3-store.ts). */
  private grant(props: IngestFunctionProps): void {
    const { inbox, pipelines } = props;
    const objects = inbox.arnForObjects('*');
    const moved = [inbox.arnForObjects(`${PROCESSED_PREFIX}*`), inbox.arnForObjects(`${REJECTED_PREFIX}*`)];
    const statements: iam.PolicyStatement[] = [
      // HEAD and GET of the object, by version id when the event carries one.
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [objects] }),
      // Without it a missing key answers 403 instead of 404, and the handler cannot tell "gone" from "denied".
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [inbox.bucketArn] }),
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [
          `arn:${Stack.of(this).partition}:s3:::${props.config.s3BucketName}/${props.config.s3ObjectKey}`,
        ],
      }),
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.ingestionEvents.topicArn] }),
    ];
    if (pipelines.tagsObjects) {
      statements.push(new iam.PolicyStatement({ actions: ['s3:PutObjectTagging'], resources: [objects] }));
    }
    if (pipelines.movesObjects) {
      // A move is a copy (which carries the tags over) under processed/ or rejected/, then a delete.
      statements.push(
        new iam.PolicyStatement({
          actions: ['s3:GetObjectTagging', 's3:DeleteObject'],
          resources: [objects],
        }),
        new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:PutObjectTagging'], resources: moved }),
      );
    }
    for (const statement of statements) this.role.addToPrincipalPolicy(statement);
    props.databaseSecret.grantRead(this.role);

    acknowledgeWildcardResource(
      this.role,
      objects,
      'The function loads whatever object a client uploads, so it reads every key of the inbox bucket ' +
        '(and, for afterLoad, tags or deletes it); the grant names the inbox bucket only.',
    );
    for (const prefix of pipelines.movesObjects ? moved : []) {
      acknowledgeWildcardResource(
        this.role,
        prefix,
        'afterLoad: move writes the loaded object under processed/ or rejected/ with its original key; the ' +
          'grant is limited to those two prefixes of the inbox bucket.',
      );
    }
  }
}
