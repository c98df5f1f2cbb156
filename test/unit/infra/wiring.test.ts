/**
 * How the pieces connect, and what each stack holds, on the default deployment (both shapes):
 * bucket → queue → function → proxy and secret; spool volume and database tags → backup plans;
 * API → functions; alarms → topic.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { MAX_RECEIVE_COUNT } from '../../../infra/constructs/ingest-queue.js';
import { INLET_METRICS } from '../../../infra/constructs/ops-metrics.js';
import { OUTPUT_STACKS, OUTPUTS } from '../../../infra/output-names.js';
import { VPC_CIDR } from '../../../infra/stacks/network-stack.js';
import { flatten, resourcesOf, synthInlet } from './harness.js';
import { allowedActions } from './policy-scan.js';

const inlet = synthInlet();
const { stacks } = inlet;
if (!stacks.serverless || !stacks.server) throw new Error('the default deployment has both shapes');
const network = inlet.template(stacks.network);
const data = inlet.template(stacks.data);
const serverless = inlet.template(stacks.serverless);
const server = inlet.template(stacks.server);
const backups = inlet.template(stacks.backups);
const extensions = inlet.template(stacks.extensions);

function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected one ${what}, found ${items.length}`);
  return items[0] as T;
}

const queueId = only(
  resourcesOf(serverless, 'AWS::SQS::Queue').filter((q) => q.properties.RedrivePolicy !== undefined),
  'ingest queue',
).id;
const functionId = only(
  resourcesOf(serverless, 'AWS::Lambda::Function').filter((f) => f.properties.Runtime === 'nodejs22.x'),
  'ingest function',
).id;
const inboxId = only(
  resourcesOf(serverless, 'AWS::S3::Bucket').filter(
    (b) => b.properties.VersioningConfiguration !== undefined,
  ),
  'inbox bucket',
).id;

describe('Network stack', () => {
  it('spans two AZs with isolated subnets only: no NAT, no internet gateway, no public subnet', () => {
    network.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: VPC_CIDR });
    network.resourceCountIs('AWS::EC2::Subnet', 4);
    network.resourceCountIs('AWS::EC2::NatGateway', 0);
    network.resourceCountIs('AWS::EC2::InternetGateway', 0);
  });

  it('has the S3 gateway endpoint and the interface endpoints the workloads call, with private DNS', () => {
    const endpoints = resourcesOf(network, 'AWS::EC2::VPCEndpoint');
    const names = endpoints.map((e) => flatten(e.properties.ServiceName));
    expect(endpoints.find((e) => e.properties.VpcEndpointType === 'Gateway')).toBeDefined();
    expect(names.some((n) => n.endsWith('.s3'))).toBe(true);
    for (const service of [
      'secretsmanager',
      'sns',
      'ssm',
      'ssmmessages',
      'ec2messages',
      'logs',
      'monitoring',
    ]) {
      expect(names, service).toContain(`com.amazonaws.us-east-1.${service}`);
    }
    for (const e of endpoints.filter((x) => x.properties.VpcEndpointType === 'Interface')) {
      expect(e.properties.PrivateDnsEnabled).toBe(true);
    }
  });

  it('logs all VPC traffic to S3', () => {
    network.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 's3',
    });
  });
});

describe('Data stack', () => {
  it('runs PostgreSQL 17 in the isolated subnets, TLS forced, single-AZ unless asked, IAM auth on', () => {
    data.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: '17',
      MultiAZ: false,
      StorageType: 'gp3',
      EnableIAMDatabaseAuthentication: true,
      CopyTagsToSnapshot: true,
      EnableCloudwatchLogsExports: ['postgresql'],
    });
    data.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
    data.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
  });

  it('keeps the credentials in Secrets Manager (a secret per user, database-access.test.ts) and rotates them', () => {
    data.resourceCountIs('AWS::SecretsManager::Secret', 3);
    data.resourceCountIs('AWS::SecretsManager::RotationSchedule', 3);
    data.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
  });

  it('puts RDS Proxy in front, authenticating with the roles’ secrets and requiring TLS', () => {
    const auth = Match.objectLike({ AuthScheme: 'SECRETS', IAMAuth: 'DISABLED' });
    data.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      Auth: [auth, auth],
    });
  });

  it('has the ingestion-events topic', () => {
    const topic = only(resourcesOf(data, 'AWS::SNS::Topic'), 'topic');
    expect(flatten(topic.properties.KmsMasterKeyId)).toMatch(/:alias\/aws\/sns$/);
  });
});

describe('Serverless stack: bucket → queue → function', () => {
  it('versions the inbox, logs its access and expires what afterLoad moves aside', () => {
    const inbox = only(
      resourcesOf(serverless, 'AWS::S3::Bucket').filter((b) => b.id === inboxId),
      'inbox',
    );
    expect(inbox.properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(inbox.properties.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'inbox/' });
    const rules = (inbox.properties.LifecycleConfiguration as { Rules: Array<Record<string, unknown>> })
      .Rules;
    expect(rules.map((r) => r.Prefix).filter(Boolean)).toEqual(['processed/', 'rejected/']);
    // Kept after a destroy, so CloudFormation names it: a fixed name would collide on the next deployment.
    expect(inbox.properties.BucketName).toBeUndefined();
    serverless.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
  });

  it("sends the inbox's Object Created events to the ingest queue through EventBridge, except under processed/ and rejected/", () => {
    serverless.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: inboxId },
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
    const rule = only(
      resourcesOf(serverless, 'AWS::Events::Rule').filter((r) => r.id.startsWith('InboxEvents')),
      'inbox rule',
    );
    expect(rule.properties.EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: {
        bucket: { name: [{ Ref: inboxId }] },
        object: { key: [{ 'anything-but': { prefix: ['processed/', 'rejected/'] } }] },
      },
    });
    expect(rule.properties.Targets).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } }),
    ]);
    const policy = only(
      resourcesOf(serverless, 'AWS::SQS::QueuePolicy').filter((p) =>
        flatten(p.properties.Queues).includes(queueId),
      ),
      'queue policy',
    );
    const document = JSON.stringify(policy.properties.PolicyDocument);
    expect(document).toContain('"Service":"events.amazonaws.com"');
    expect(document).toContain(`"aws:SourceArn":{"Fn::GetAtt":["${rule.id}","Arn"]}`);
    expect(document).not.toContain('s3.amazonaws.com');
  });

  it('waits six function timeouts before redelivering and dead-letters after five receives', () => {
    const queue = only(
      resourcesOf(serverless, 'AWS::SQS::Queue').filter((q) => q.id === queueId),
      'queue',
    );
    const fn = only(
      resourcesOf(serverless, 'AWS::Lambda::Function').filter((f) => f.id === functionId),
      'fn',
    );
    expect(queue.properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (fn.properties.Timeout as number));
    expect((queue.properties.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBe(
      MAX_RECEIVE_COUNT,
    );
  });

  it('feeds the function from the queue with per-message failure reports and capped concurrency', () => {
    serverless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: functionId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 5,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    serverless.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      ReservedConcurrentExecutions: 5,
      Timeout: 300,
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
    });
  });

  it('connects the function to PostgreSQL through the proxy, with the secret it may read', () => {
    const fn = only(
      resourcesOf(serverless, 'AWS::Lambda::Function').filter((f) => f.id === functionId),
      'fn',
    );
    const env = (fn.properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(flatten(env.INLET_DATABASE_HOST)).toMatch(/^\$\{InletData:.*Proxy.*Endpoint/);
    expect(flatten(env.INLET_DATABASE_SECRET_ARN)).toMatch(/^\$\{InletData:.*Secret/);
    expect(flatten(env.INLET_CONFIG)).toMatch(/^s3:\/\/cdk-.*assets.*\.yaml$/);
    expect(env.PGSSLMODE).toBe('verify-full');
    expect(flatten(env.INLET_NOTIFY_TOPIC_ARN)).toMatch(/^\$\{InletData:.*IngestionEvents/);
    const ingress = only(
      resourcesOf(serverless, 'AWS::EC2::SecurityGroupIngress').filter((r) =>
        r.id.startsWith('IngestFunction'),
      ),
      'proxy ingress',
    );
    expect(ingress.properties).toMatchObject({ FromPort: 5432, ToPort: 5432, IpProtocol: 'tcp' });
    expect(flatten(ingress.properties.GroupId)).toMatch(/InletData:.*ProxySecurityGroup/);
    const [sg] = (fn.properties.VpcConfig as { SecurityGroupIds: unknown[] }).SecurityGroupIds;
    expect(ingress.properties.SourceSecurityGroupId).toEqual(sg);
  });

  it('lets the function do exactly what the handler does with afterLoad: none', () => {
    const actions = allowedActions(serverless, 'IngestFunction');
    expect([...actions.keys()].sort()).toEqual(
      [
        ...['ec2:AssignPrivateIpAddresses', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface'],
        ...['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:UnassignPrivateIpAddresses'],
        ...['logs:CreateLogStream', 'logs:PutLogEvents'],
        ...['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket', 'sns:Publish'],
        ...['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        ...['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        'sqs:ReceiveMessage',
        // Starting the hand-over task (hand-over-task.test.ts checks their scope).
        ...['ecs:RunTask', 'ecs:TagResource', 'iam:PassRole'],
      ].sort(),
    );
    expect(flatten(actions.get('s3:GetObjectVersion'))).toBe(`\${${inboxId}.Arn}/*`);
  });
});

describe('Server stack', () => {
  const instance = only(resourcesOf(server, 'AWS::EC2::Instance'), 'instance');
  const userData = flatten(instance.properties.UserData);
  const volume = only(resourcesOf(server, 'AWS::EC2::Volume'), 'spool volume');

  it('launches Amazon Linux 2023 (resolved at launch) in a private subnet with Session Manager', () => {
    server.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        ImageId: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
      },
    });
    expect(instance.properties.ImageId).toBeUndefined();
    expect(
      flatten((instance.properties.NetworkInterfaces as Array<{ SubnetId: unknown }>)[0]?.SubnetId),
    ).toMatch(/InletNetwork:.*appSubnet1/);
    expect(instance.properties.KeyName).toBeUndefined();
    expect(flatten(server.toJSON())).toContain('AmazonSSMManagedInstanceCore');
  });

  it('gives each instance its own encrypted gp3 spool volume, tagged for the spool backup plan, attached by the instance', () => {
    expect(volume.properties).toMatchObject({ Encrypted: true, VolumeType: 'gp3', Size: 50 });
    expect(volume.properties.Tags).toContainEqual({ Key: 'inlet:backup', Value: 'spool' });
    expect(volume.properties.Tags).toContainEqual({ Key: 'inlet:spool', Value: 'true' });
    server.hasResource('AWS::EC2::Volume', { DeletionPolicy: 'Snapshot' });
    // No attachment resource: CloudFormation would create a replacement's attachment while the old
    // instance still holds the volume, and the replacement would be stuck. inlet-node attaches it.
    server.resourceCountIs('AWS::EC2::VolumeAttachment', 0);
    expect(userData).toContain(`INLET_NODE_SPOOL_VOLUME=\${Ref:${volume.id}}`);
    expect(userData).toContain('INLET_NODE_SPOOL_DEVICE=/dev/sdf');
  });

  it('boots with user data that installs Node.js from the distro and runs inlet serve under systemd', () => {
    expect(userData).toContain('scripts-user, always');
    expect(userData).toContain('dnf install -y nodejs22 amazon-cloudwatch-agent');
    expect(userData).toContain(
      'ExecStart=/usr/bin/node-22 /opt/inlet/lib/cli/main.mjs serve --config /etc/inlet/inlet.config.yaml',
    );
    expect(userData).toContain('amazon-cloudwatch-agent-ctl -a fetch-config');
    expect(userData).not.toContain('resolve:secretsmanager');
    // cloud-init's limit is 16 KB of user data.
    expect(Buffer.byteLength(userData)).toBeLessThan(16_000);
  });

  it('makes CloudFormation wait for each instance, which signals only after /healthz answered, and failure at once', () => {
    server.hasResource('AWS::EC2::Instance', {
      CreationPolicy: { ResourceSignal: { Count: 1, Timeout: 'PT30M' } },
    });
    const lines = userData.split('\n');
    expect(userData).toMatch(/^report_failure\(\) \{ .*inlet-node signal FAILURE/m);
    const armed = lines.indexOf('trap report_failure EXIT');
    const packages = lines.findIndex((l) => l.startsWith('dnf install'));
    const up = lines.indexOf('/usr/local/libexec/inlet-node up');
    const success = lines.indexOf('/usr/local/libexec/inlet-node signal SUCCESS');
    // The failure trap is armed before anything that can fail; success is the last thing bootstrap does.
    expect(armed).toBeGreaterThan(-1);
    expect(armed).toBeLessThan(packages);
    expect(packages).toBeLessThan(up);
    expect(up).toBeLessThan(success);
    const rest = lines.slice(success + 1);
    const partEnd = rest.findIndex((l) => l.startsWith('--'));
    expect(rest.slice(0, partEnd).filter((l) => l !== '' && !l.startsWith('echo'))).toEqual([]);
    // `up` waits for /healthz before it joins the load balancer and returns.
    const upFunction = /^up\(\) \{\n([\s\S]*?)\n\}/m.exec(userData)?.[1] ?? '';
    expect(upFunction).toMatch(
      /systemctl restart inlet\.service[\s\S]*wait_healthy 300\n\s*join_load_balancer/,
    );
    // The signal names this instance's own logical id in this stack.
    expect(userData).toContain(`INLET_NODE_LOGICAL_ID=${instance.id}`);
    expect(userData).toContain('INLET_NODE_STACK=InletServer');
    // The isolated subnets reach CloudFormation (the signal), EC2 (the spool) and the load balancer API.
    const services = resourcesOf(network, 'AWS::EC2::VPCEndpoint').map((e) =>
      flatten(e.properties.ServiceName),
    );
    for (const service of ['cloudformation', 'ec2', 'elasticloadbalancing']) {
      expect(services).toContain(`com.amazonaws.us-east-1.${service}`);
    }
  });

  it('keeps releases out of user data and rolls them out through SSM, one instance at a time', () => {
    // A new bundle, config or environment changes SSM parameters and the association, never the instance.
    expect(userData).not.toMatch(/s3:\/\/cdk-/);
    const parameters = resourcesOf(server, 'AWS::SSM::Parameter').map((p) => flatten(p.properties.Value));
    expect(parameters.some((v) => /^s3:\/\/cdk-.*\.zip$/.test(v))).toBe(true);
    expect(parameters.some((v) => /^s3:\/\/cdk-.*\.yaml$/.test(v))).toBe(true);
    expect(parameters.some((v) => /INLET_DATABASE_SECRET_ARN=\$\{InletData:.*Secret/.test(v))).toBe(true);
    for (const p of resourcesOf(server, 'AWS::SSM::Parameter')) expect(p.properties.Name).toBeUndefined();
    const association = only(resourcesOf(server, 'AWS::SSM::Association'), 'association');
    expect(association.properties).toMatchObject({
      MaxConcurrency: '1',
      MaxErrors: '0',
      DocumentVersion: '$LATEST',
      Targets: [{ Key: 'InstanceIds', Values: [{ Ref: instance.id }] }],
    });
    expect(association.properties.WaitForSuccessTimeoutSeconds).toBeGreaterThanOrEqual(900);
    // Its parameter carries the release, so that a new release runs it again.
    const release = flatten((association.properties.Parameters as { release: unknown[] }).release);
    expect(release).toMatch(/^s3:\/\/cdk-.*\.zip s3:\/\/cdk-.*\.yaml us-east-1 /);
    const document = only(
      resourcesOf(server, 'AWS::SSM::Document').filter(
        (d) => flatten(association.properties.Name) === `\${Ref:${d.id}}`,
      ),
      'update document',
    );
    expect(JSON.stringify(document.properties.Content)).toContain('/usr/local/libexec/inlet-node up');
  });

  it('lets an instance take over a spool only from a sibling of this stack, through the release-spool document', () => {
    const actions = allowedActions(server, 'Role');
    expect(flatten(actions.get('ec2:AttachVolume'))).toContain(`volume/\${Ref:${volume.id}}`);
    expect(flatten(actions.get('ssm:SendCommand'))).toMatch(/document\/\$\{Ref:ReleaseReleaseSpool/);
    expect(flatten(actions.get('cloudformation:SignalResource'))).toContain(':stack/InletServer/*');
    expect(flatten(actions.get('elasticloadbalancing:RegisterTargets'))).toMatch(
      /^\$\{Ref:LoadBalancerTargets/,
    );
    const conditions = flatten(server.toJSON());
    expect(conditions).toContain('"aws:ResourceTag/inlet:server":"InletServer"');
    expect(conditions).toContain('"ssm:resourceTag/inlet:server":"InletServer"');
    expect(instance.properties.Tags).toContainEqual({ Key: 'inlet:server', Value: 'InletServer' });
  });

  it('puts an internal HTTP load balancer in front (no certificate given) with /healthz checks on 8080', () => {
    server.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
    server.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, Protocol: 'HTTP' });
    server.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8080,
      HealthCheckPath: '/healthz',
    });
    // The instances register themselves once healthy; CloudFormation does not manage the members (of the
    // HTTP target group, nor of the SFTP one).
    const groups = resourcesOf(server, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(groups).toHaveLength(2);
    for (const group of groups) expect(group.properties.Targets).toBeUndefined();
  });

  it('lets the instances reach the proxy and publish metrics only in the agent namespace', () => {
    const ingress = resourcesOf(server, 'AWS::EC2::SecurityGroupIngress').filter(
      (i) => i.properties.FromPort === 5432,
    );
    expect(ingress).toHaveLength(1);
    expect(flatten(server.toJSON())).toContain('"cloudwatch:namespace":"CWAgent"');
  });
});

describe('Backups stack', () => {
  const selections = resourcesOf(backups, 'AWS::Backup::BackupSelection').map((s) => ({
    tags: (s.properties.BackupSelection as { ListOfTags: Array<Record<string, string>> }).ListOfTags,
  }));

  it('selects the spool volumes and the database by the tags they carry', () => {
    const spoolTag = (
      only(resourcesOf(server, 'AWS::EC2::Volume'), 'volume').properties.Tags as Array<{
        Key: string;
        Value: string;
      }>
    ).find((t) => t.Key === 'inlet:backup');
    const databaseTag = (
      only(resourcesOf(data, 'AWS::RDS::DBInstance'), 'db').properties.Tags as Array<{
        Key: string;
        Value: string;
      }>
    ).find((t) => t.Key === 'inlet:backup');
    const selected = selections.flatMap((s) => s.tags.map((t) => `${t.ConditionKey}=${t.ConditionValue}`));
    expect(selected.sort()).toEqual(
      [`inlet:backup=${databaseTag?.Value}`, `inlet:backup=${spoolTag?.Value}`].sort(),
    );
    for (const s of selections) expect(s.tags[0]?.ConditionType).toBe('STRINGEQUALS');
  });

  it('runs the spool plan hourly and the database plan daily, with their retention', () => {
    const rules = resourcesOf(backups, 'AWS::Backup::BackupPlan').flatMap(
      (p) => (p.properties.BackupPlan as { BackupPlanRule: Array<Record<string, unknown>> }).BackupPlanRule,
    );
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ScheduleExpression: 'cron(0 * * * ? *)',
          Lifecycle: { DeleteAfterDays: 7 },
        }),
        expect.objectContaining({
          ScheduleExpression: 'cron(0 3 * * ? *)',
          Lifecycle: { DeleteAfterDays: 35 },
        }),
      ]),
    );
  });

  it('refuses recovery-point deletion, in a vault whose name is new with every stack', () => {
    expect(flatten(backups.toJSON())).toContain('backup:DeleteRecoveryPoint');
    const vault = only(resourcesOf(backups, 'AWS::Backup::BackupVault'), 'vault');
    // The vault outlives a destroy: the stack id's UUID keeps the next deployment's vault name free.
    expect(flatten(vault.properties.BackupVaultName)).toMatch(/^inlet-.*"Ref":"AWS::StackId"/);
  });

  it('leaves account-wide settings alone unless asked: no snapshot public-access block, no API Gateway role', () => {
    backups.resourceCountIs('AWS::EC2::SnapshotBlockPublicAccess', 0);
    extensions.resourceCountIs('AWS::ApiGateway::Account', 0);
  });
});

describe('Extensions stack', () => {
  it('authorizes every API method with IAM and validates every request', () => {
    const methods = resourcesOf(extensions, 'AWS::ApiGateway::Method');
    expect(methods.map((m) => `${m.properties.HttpMethod}`).sort()).toEqual(['GET', 'GET', 'POST']);
    for (const method of methods) {
      expect(method.properties.AuthorizationType).toBe('AWS_IAM');
      expect(method.properties.RequestValidatorId).toBeDefined();
    }
    extensions.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
  });

  it('logs API access as JSON and execution errors, never bodies', () => {
    extensions.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: [Match.objectLike({ LoggingLevel: 'ERROR', DataTraceEnabled: false, HttpMethod: '*' })],
    });
  });

  it('lets the presign function sign uploads under clients/ only, at most 1 GiB by default', () => {
    const actions = allowedActions(extensions, 'ApiPresign');
    expect(flatten(actions.get('s3:PutObject'))).toMatch(
      /^\$\{InletServerless:[^}]*Inbox[^}]*\}\/clients\/\*$/,
    );
    expect([...actions.keys()].filter((action) => action.startsWith('s3:'))).toEqual(['s3:PutObject']);
    const presign = only(
      resourcesOf(extensions, 'AWS::Lambda::Function').filter((f) =>
        JSON.stringify(f.properties.Environment).includes('INLET_UPLOAD_MAX_BYTES'),
      ),
      'presign function',
    );
    expect(presign.properties.Environment).toMatchObject({
      Variables: { INLET_UPLOAD_MAX_BYTES: String(1024 ** 3), INLET_UPLOAD_URL_SECONDS: '900' },
    });
  });

  it('bundles each API function separately', () => {
    const codes = resourcesOf(extensions, 'AWS::Lambda::Function').map((f) => flatten(f.properties.Code));
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('alarms on DLQ depth, error rate, reject ratio, event age, failed hand-over tasks, free storage and failed backups, to the topic', () => {
    const alarms = resourcesOf(extensions, 'AWS::CloudWatch::Alarm');
    const ids = alarms.map((a) => a.id).join(' ');
    for (const name of [
      'DeadLetters',
      'IngestErrorRate',
      'RejectRatio',
      'OldestEvent',
      'FailedHandOverTasks',
      'DatabaseFreeStorage',
      'FailedBackupJobs',
      'Server1StatusCheck',
      'Server1SpoolFull',
      'UnhealthyServers',
    ]) {
      expect(ids, name).toContain(name);
    }
    const topic = only(resourcesOf(extensions, 'AWS::SNS::Topic'), 'alarm topic').id;
    for (const alarm of alarms) expect(alarm.properties.AlarmActions).toEqual([{ Ref: topic }]);
  });

  it("lets CloudWatch publish to the alarm topic, and only this account's alarms in this region", () => {
    const topic = only(resourcesOf(extensions, 'AWS::SNS::Topic'), 'alarm topic').id;
    const policy = only(
      resourcesOf(extensions, 'AWS::SNS::TopicPolicy').filter(
        (p) => flatten(p.properties.Topics) === `\${Ref:${topic}}`,
      ),
      'alarm topic policy',
    );
    const statements = (policy.properties.PolicyDocument as { Statement: Array<Record<string, unknown>> })
      .Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topic },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': expect.anything() },
        },
      }),
    );
    const sourceArn = statements
      .map((s) => flatten((s.Condition as { ArnLike?: Record<string, unknown> })?.ArnLike?.['aws:SourceArn']))
      .join('');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: flatten() writes references this way
    expect(sourceArn).toContain(':cloudwatch:us-east-1:${Ref:AWS::AccountId}:alarm:*');
    // The key the topic is encrypted with lets CloudWatch encrypt what it publishes.
    const key = only(resourcesOf(extensions, 'AWS::KMS::Key'), 'alarm key');
    expect((key.properties.KeyPolicy as { Statement: unknown[] }).Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    );
    // Without -c alarmEmail nobody is subscribed (the report on stderr says so; production refuses).
    extensions.resourceCountIs('AWS::SNS::Subscription', 0);
    expect(inlet.report).toMatch(/alarms: .*nobody is subscribed/);
  });

  it("shows the function's own metrics on the dashboard, as it emits them", () => {
    const body = flatten(
      only(resourcesOf(extensions, 'AWS::CloudWatch::Dashboard'), 'dashboard').properties.DashboardBody,
    );
    for (const metric of INLET_METRICS) expect(body).toContain(`"Inlet","${metric}","service","inlet"`);
    for (const metric of [
      'ApproximateAgeOfOldestMessage',
      'Throttles',
      'Duration',
      'CPUUtilization',
      'DatabaseConnections',
      'StatusCheckFailed',
    ]) {
      expect(body).toContain(metric);
    }
  });
});

describe('stack outputs', () => {
  it('has every output the smoke test reads, in the stack it looks in', () => {
    const templates = inlet.templates();
    for (const [name, stack] of Object.entries(OUTPUT_STACKS)) {
      const output = OUTPUTS[name as keyof typeof OUTPUTS];
      const template = templates.get(`Inlet${stack}`);
      expect(template, stack).toBeDefined();
      template?.hasOutput(output, {});
    }
  });
});
