/**
 * The Fargate task big objects are handed to (infra/constructs/hand-over-task.ts): what it runs and how,
 * what its roles may do, and that the function may start exactly it and pass exactly its two roles.
 */
import { describe, expect, it } from 'vitest';
import { failedTaskPattern } from '../../../infra/constructs/hand-over-task.js';
import { flatten, resourcesOf, synthInlet } from './harness.js';
import { allowedActions } from './policy-scan.js';

const inlet = synthInlet();
const serverless = inlet.template(inlet.stacks.serverless as NonNullable<typeof inlet.stacks.serverless>);

function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected one ${what}, found ${items.length}`);
  return items[0] as T;
}

const task = only(resourcesOf(serverless, 'AWS::ECS::TaskDefinition'), 'task definition');
const container = only(task.properties.ContainerDefinitions as Record<string, unknown>[], 'container');
const ingestFunction = only(
  resourcesOf(serverless, 'AWS::Lambda::Function').filter((f) => f.id.startsWith('IngestFunction')),
  'ingest function',
);
const functionEnv = (ingestFunction.properties.Environment as { Variables: Record<string, unknown> })
  .Variables;

/** The ids of the roles the task definition names. */
const taskRoleArn = flatten(task.properties.TaskRoleArn);
const executionRoleArn = flatten(task.properties.ExecutionRoleArn);

describe('the hand-over task', () => {
  it('is a Fargate task on ARM64 with the configured CPU, memory and ephemeral storage, in a cluster with Container Insights', () => {
    expect(task.properties).toMatchObject({
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      Cpu: '1024',
      Memory: '4096',
      EphemeralStorage: { SizeInGiB: 40 },
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
    const cluster = only(resourcesOf(serverless, 'AWS::ECS::Cluster'), 'cluster');
    expect(cluster.properties.ClusterSettings).toEqual([{ Name: 'containerInsights', Value: 'enabled' }]);
  });

  it('runs the image built from the Dockerfile as uid 1000 on a read-only root, spooling to a scratch volume', () => {
    expect(container).toMatchObject({
      Name: 'inlet',
      User: '1000:1000',
      ReadonlyRootFilesystem: true,
      Essential: true,
      MountPoints: [{ ContainerPath: '/scratch', SourceVolume: 'scratch', ReadOnly: false }],
    });
    expect(task.properties.Volumes).toEqual([{ Name: 'scratch' }]);
    // A DockerImageAsset: the image lives in the bootstrap's asset repository, tagged by its hash.
    expect(flatten(container.Image)).toMatch(/cdk-.*-container-assets-.*:[0-9a-f]{64}$/);
    const env = Object.fromEntries(
      (container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, flatten(e.Value)]),
    );
    expect(env).toMatchObject({ TMPDIR: '/scratch', PGSSLMODE: 'verify-full' });
    expect(env.INLET_DATABASE_SECRET_ARN).toMatch(/InletData:.*Secret/);
    expect(env.INLET_DATABASE_HOST).toMatch(/InletData:.*Proxy.*Endpoint/);
    expect(env.INLET_CONFIG).toMatch(/^s3:\/\/cdk-.*assets.*\.yaml$/);
    expect(env.INLET_NOTIFY_TOPIC_ARN).toMatch(/InletData:.*IngestionEvents/);
  });

  it('logs to its own log group, kept three months', () => {
    expect(container.LogConfiguration).toMatchObject({
      LogDriver: 'awslogs',
      Options: { 'awslogs-stream-prefix': 'inlet' },
    });
    const groupId = flatten(
      (container.LogConfiguration as { Options: Record<string, unknown> }).Options['awslogs-group'],
    );
    const group = only(
      resourcesOf(serverless, 'AWS::Logs::LogGroup').filter((g) => groupId === `\${Ref:${g.id}}`),
      'task log group',
    );
    expect(group.properties.RetentionInDays).toBe(90);
  });

  it('gives the task role exactly what inlet ingest s3://… needs: read inbox objects, the config, the secret, announce', () => {
    const actions = allowedActions(serverless, 'HandOverTaskRole');
    expect([...actions.keys()].sort()).toEqual(
      [
        's3:GetObject',
        's3:GetObjectVersion',
        's3:ListBucket',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'sns:Publish',
      ].sort(),
    );
    expect(flatten(actions.get('sns:Publish'))).toMatch(/InletData:.*IngestionEvents/);
    expect(flatten(actions.get('s3:GetObjectVersion'))).toMatch(/^\$\{Inbox.*\.Arn\}\/\*$/);
    expect(flatten(actions.get('secretsmanager:GetSecretValue'))).toMatch(/InletData:.*Secret/);
  });

  it('gives the execution role only the image pull and its log group', () => {
    const actions = allowedActions(serverless, 'HandOverExecutionRole');
    expect([...actions.keys()].sort()).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:GetAuthorizationToken',
      'ecr:GetDownloadUrlForLayer',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
  });

  it('lets the function start exactly this task definition in this cluster and pass exactly its two roles to ECS', () => {
    const statements = resourcesOf(serverless, 'AWS::IAM::Policy')
      .filter((p) => p.id.startsWith('IngestFunction'))
      .flatMap((p) => (p.properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
    const runTask = only(
      statements.filter((s) => s.Action === 'ecs:RunTask'),
      'RunTask statement',
    );
    expect(flatten(runTask.Resource)).toBe(`\${Ref:${task.id}}`);
    expect(runTask.Condition).toEqual({
      ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [expect.stringMatching(/^HandOverCluster/), 'Arn'] } },
    });
    const passRole = only(
      statements.filter((s) => s.Action === 'iam:PassRole'),
      'PassRole statement',
    );
    expect((passRole.Resource as unknown[]).map(flatten).sort()).toEqual(
      [executionRoleArn, taskRoleArn].sort(),
    );
    expect(passRole.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
  });

  it('tells the function where the task is: cluster, task definition, container, subnets, security group, disk', () => {
    expect(flatten(functionEnv.INLET_HANDOVER_CLUSTER)).toMatch(/HandOverCluster.*\.Arn/);
    expect(flatten(functionEnv.INLET_HANDOVER_TASK_DEFINITION)).toBe(`\${Ref:${task.id}}`);
    expect(functionEnv.INLET_HANDOVER_CONTAINER).toBe('inlet');
    expect(flatten(functionEnv.INLET_HANDOVER_SUBNETS)).toMatch(/InletNetwork:.*app.*Subnet1.*,.*Subnet2/);
    expect(flatten(functionEnv.INLET_HANDOVER_SECURITY_GROUPS)).toMatch(/HandOverSecurityGroup.*GroupId/);
    expect(functionEnv.INLET_TASK_MAX_BYTES).toBe(String(38 * 1024 ** 3));
    const ingress = only(
      resourcesOf(serverless, 'AWS::EC2::SecurityGroupIngress').filter((r) => r.id.startsWith('HandOver')),
      'task proxy ingress',
    );
    expect(ingress.properties).toMatchObject({ FromPort: 5432, ToPort: 5432, IpProtocol: 'tcp' });
    expect(flatten(ingress.properties.GroupId)).toMatch(/InletData:.*ProxySecurityGroup/);
  });

  it('keeps failed tasks (non-zero exit, or never started) of this cluster in a queue', () => {
    const rule = only(
      resourcesOf(serverless, 'AWS::Events::Rule').filter((r) => r.id.startsWith('HandOver')),
      'failed-task rule',
    );
    const pattern = rule.properties.EventPattern as Record<string, unknown>;
    expect(pattern).toMatchObject({ source: ['aws.ecs'], 'detail-type': ['ECS Task State Change'] });
    expect(failedTaskPattern('arn').detail).toEqual({
      clusterArn: ['arn'],
      lastStatus: ['STOPPED'],
      // A task that ends well stops with EssentialContainerExited and exit code 0: neither branch takes it.
      $or: [{ containers: { exitCode: [{ 'anything-but': 0 }] } }, { stopCode: ['TaskFailedToStart'] }],
    });
    expect(flatten(rule.properties.Targets)).toMatch(/GetAtt.*HandOverFailed.*Arn/);
  });
});
