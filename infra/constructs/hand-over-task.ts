/**
 * Where the ingest function sends objects too big for it (docs/architecture.md, "Big objects leave the
 * function"): an ECS cluster and a Fargate task definition whose container runs the `inlet` CLI built from
 * the repository's Dockerfile (a DockerImageAsset: synthesis only stages the directory, deployment builds
 * it), as a non-root user on a read-only root filesystem with a scratch volume for spooling, in the private
 * subnets, logging to its own log group, with a task role that can do what `inlet ingest s3://…` does and
 * no more. Failed tasks (a non-zero exit, or a task that could not start) are kept in a queue whose depth
 * OpsAlarms alarms on, as for failed secret rotations.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource } from '../nag.js';
import { ProxyAccess } from './proxy-access.js';

/** The container RunTask's override names (INLET_HANDOVER_CONTAINER's default). */
export const HAND_OVER_CONTAINER = 'inlet';
/** Where the task spools Parquet, XLSX and zip objects (TMPDIR): the task's ephemeral storage. */
export const SCRATCH_PATH = '/scratch';

export interface HandOverTaskProps {
  /** The directory holding the Dockerfile (the repository root). */
  readonly imageDir: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly inbox: s3.IBucket;
  readonly config: s3assets.Asset;
  readonly databaseSecret: secretsmanager.ISecret;
  readonly proxy: rds.IDatabaseProxy;
  readonly proxySecurityGroup: ec2.ISecurityGroup;
  /** Where `inlet ingest` announces each file it loads, as the function does (INLET_NOTIFY_TOPIC_ARN). */
  readonly ingestionEvents: sns.ITopic;
  readonly cpu: number;
  readonly memoryMiB: number;
  /** Fargate's ephemeral storage, 21–200 GiB: what the task can spool. */
  readonly ephemeralStorageGiB: number;
}

export class HandOverTask extends Construct {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;
  /** One message per failed task (the ECS event, stop reason and exit codes included). */
  readonly failedTasks: sqs.Queue;
  /** What the task can spool, in bytes, for the function's INLET_TASK_MAX_BYTES. */
  readonly maxBytes: number;

  constructor(scope: Construct, id: string, props: HandOverTaskProps) {
    super(scope, id);
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    this.logGroup = new logs.LogGroup(this, 'Log', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const image = new ecrAssets.DockerImageAsset(this, 'Image', {
      directory: props.imageDir,
      platform: ecrAssets.Platform.LINUX_ARM64,
    });
    const taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Inlet hand-over task: reads the inbox object it was handed, loads it through RDS Proxy',
    });
    const executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Inlet hand-over task execution: pulls its image, writes its log group',
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      ephemeralStorageGiB: props.ephemeralStorageGiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole,
      executionRole,
      volumes: [{ name: 'scratch' }],
    });
    const container = this.taskDefinition.addContainer('Inlet', {
      containerName: HAND_OVER_CONTAINER,
      image: ecs.ContainerImage.fromDockerImageAsset(image),
      // The Dockerfile's `node` user, by number, so ECS refuses to run the image as root whatever it says.
      user: '1000:1000',
      readonlyRootFilesystem: true,
      essential: true,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'inlet' }),
      environment: {
        INLET_CONFIG: props.config.s3ObjectUrl,
        INLET_DATABASE_SECRET_ARN: props.databaseSecret.secretArn,
        INLET_DATABASE_HOST: props.proxy.endpoint,
        INLET_NOTIFY_TOPIC_ARN: props.ingestionEvents.topicArn,
        PGSSLMODE: 'verify-full',
        TMPDIR: SCRATCH_PATH,
      },
    });
    acknowledge(
      this.taskDefinition,
      'ECS2',
      'The environment holds no secret: the database secret is named by ARN and read by the task at run time ' +
        '(its role may read that one secret), as the ingest function does; the rest are endpoints and paths.',
    );
    container.addMountPoints({ containerPath: SCRATCH_PATH, sourceVolume: 'scratch', readOnly: false });
    // The spool shares the task's ephemeral storage with the image's layers: keep a margin of 2 GiB.
    this.maxBytes = (props.ephemeralStorageGiB - 2) * 1024 ** 3;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Inlet hand-over task: PostgreSQL to the proxy, HTTPS to the VPC endpoints',
    });
    new ProxyAccess(this, 'ProxyAccess', {
      proxySecurityGroup: props.proxySecurityGroup,
      from: this.securityGroup,
      description: 'PostgreSQL from the Inlet hand-over task',
    });
    this.grant(taskRole, props);
    acknowledge(
      executionRole,
      'IAM5[Resource::*]',
      'ecr:GetAuthorizationToken, which ECS calls to pull the image, has no resource to scope it to (ECR ' +
        "documents it as '*'); the layer pulls are limited to the image's own repository.",
    );

    this.failedTasks = new sqs.Queue(this, 'Failed', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.failedTasks,
      'SQS3',
      'Nothing consumes this queue: it holds the ECS events of failed hand-over tasks for a person to read, ' +
        'and its depth is the alarm. A dead-letter queue would only receive what someone moved there by hand.',
    );
    new events.Rule(this, 'FailedRule', {
      description: 'Inlet: a hand-over task exited non-zero or could not start',
      eventPattern: failedTaskPattern(this.cluster.clusterArn),
      targets: [new targets.SqsQueue(this.failedTasks)],
    });
  }

  /** Exactly what `inlet ingest s3://… --version-id … --etag …` calls (src/cli/ingest-files.ts). */
  private grant(role: iam.Role, props: HandOverTaskProps): void {
    const objects = props.inbox.arnForObjects('*');
    for (const statement of [
      // HEAD and GET of the object, by the version id it was handed.
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [objects] }),
      // A missing key then answers 404, not 403.
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.inbox.bucketArn] }),
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [
          `arn:${Stack.of(this).partition}:s3:::${props.config.s3BucketName}/${props.config.s3ObjectKey}`,
        ],
      }),
    ]) {
      role.addToPrincipalPolicy(statement);
    }
    props.databaseSecret.grantRead(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.ingestionEvents.topicArn] }),
    );
    acknowledgeWildcardResource(
      role,
      objects,
      'The task loads whichever inbox object the function hands it, so it reads every key of the inbox ' +
        'bucket; the grant names the inbox bucket only and is read-only.',
    );
  }
}

/** ECS's task state change for a stopped task of this cluster that failed: a non-zero exit, or no start. */
export function failedTaskPattern(clusterArn: string): events.EventPattern {
  return {
    source: ['aws.ecs'],
    detailType: ['ECS Task State Change'],
    detail: {
      clusterArn: [clusterArn],
      lastStatus: ['STOPPED'],
      $or: [
        { containers: { exitCode: [{ 'anything-but': 0 }] } },
        // Not EssentialContainerExited: every task that ends, successfully too, stops with it.
        { stopCode: ['TaskFailedToStart'] },
      ],
    } as Record<string, unknown>,
  };
}

/** The function's right to start this task, and to pass it exactly its two roles. */
export function grantRunTask(handOver: HandOverTask, role: iam.IRole): void {
  const { taskDefinition } = handOver;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['ecs:RunTask'],
      resources: [taskDefinition.taskDefinitionArn],
      conditions: { ArnEquals: { 'ecs:cluster': handOver.cluster.clusterArn } },
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [taskDefinition.taskRole.roleArn, (taskDefinition.executionRole as iam.IRole).roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    }),
  );
  // RunTask tags the task (inlet:ingestion, inlet:pipeline): ECS asks for ecs:TagResource on the new task.
  const tasks = Stack.of(handOver).formatArn({
    service: 'ecs',
    resource: 'task',
    resourceName: `${handOver.cluster.clusterName}/*`,
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['ecs:TagResource'],
      resources: [tasks],
      conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    }),
  );
  acknowledgeWildcardResource(
    role,
    tasks,
    'A task ARN ends with an id ECS assigns at RunTask, so the tags RunTask sets can only be allowed on the ' +
      "cluster's tasks; the grant holds only when the tag is set by RunTask itself (ecs:CreateAction).",
  );
}
