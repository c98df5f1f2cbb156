/**
 * The SFTP door on AWS (issue 18): a Network Load Balancer listening on TCP 22 for the client range only,
 * forwarding to the instances' 2222; one host key in Secrets Manager that the instances read (and the first
 * one writes), with nothing more on it; the door turned on in the service's environment; refused sign-ins
 * counted from the log and paging through the alarm topic; cdk-nag clean.
 */
import { describe, expect, it } from 'vitest';
import {
  SFTP_FAILED_SIGN_INS_METRIC,
  SFTP_SIGN_IN_REFUSED,
} from '../../../infra/constructs/sftp-failed-sign-ins.js';
import { environmentFile, SFTP_HOST_KEY_PATH } from '../../../infra/server-files.js';
import { flatten, resourcesOf, synthInlet } from './harness.js';

const CLIENTS = '203.0.113.0/24';
const inlet = synthInlet(
  {
    profile: 'production',
    certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b',
    clientCidr: CLIENTS,
    alarmEmail: 'ops@example.com',
    blockSnapshotPublicAccess: 'true',
    apiGatewayLoggingRole: 'true',
  },
  { nag: true },
);
const { stacks } = inlet;
if (!stacks.server) throw new Error('the server shape expected');
const server = inlet.template(stacks.server);
const extensions = inlet.template(stacks.extensions);

const ref = (id: string | undefined): string => `\${Ref:${id}}`;
const nlb = resourcesOf(server, 'AWS::ElasticLoadBalancingV2::LoadBalancer').find(
  (lb) => lb.properties.Type === 'network',
);
const sftpGroup = resourcesOf(server, 'AWS::EC2::SecurityGroup').find((g) =>
  String(g.properties.GroupDescription).startsWith('Inlet SFTP load balancer'),
);
const instanceGroup = resourcesOf(server, 'AWS::EC2::SecurityGroup').find((g) =>
  g.id.startsWith('InstanceSecurityGroup'),
);
const secrets = resourcesOf(server, 'AWS::SecretsManager::Secret');
const hostKey = secrets.find((s) => s.id.startsWith('SftpHostKey'));

describe('the SFTP door on AWS', () => {
  it('listens on TCP 22 on a network load balancer, forwarding to 2222 with TCP health checks', () => {
    expect(nlb).toBeDefined();
    expect(nlb?.properties.SecurityGroups).toEqual([{ 'Fn::GetAtt': [sftpGroup?.id, 'GroupId'] }]);
    const listener = resourcesOf(server, 'AWS::ElasticLoadBalancingV2::Listener').find(
      (l) => l.properties.Protocol === 'TCP',
    );
    expect(listener?.properties.Port).toBe(22);
    expect(listener?.properties.LoadBalancerArn).toEqual({ Ref: nlb?.id });
    const group = resourcesOf(server, 'AWS::ElasticLoadBalancingV2::TargetGroup').find(
      (g) => g.properties.Protocol === 'TCP',
    );
    expect(group?.properties).toMatchObject({
      Port: 2222,
      TargetType: 'instance',
      HealthCheckProtocol: 'TCP',
      HealthCheckPort: '2222',
    });
    expect(group?.properties.Targets).toBeUndefined();
    expect(listener?.properties.DefaultActions).toEqual([
      { Type: 'forward', TargetGroupArn: { Ref: group?.id } },
    ]);
    // inlet-node registers each instance in it, on 2222.
    const userData = flatten(resourcesOf(server, 'AWS::EC2::Instance')[0]?.properties.UserData);
    expect(userData).toContain(`INLET_NODE_SFTP_TARGET_GROUP=${ref(group?.id)}`);
    expect(userData).toContain('INLET_NODE_SFTP_PORT=2222');
  });

  it('takes SSH from the client range only, and the instances take 2222 from that load balancer only', () => {
    expect(sftpGroup?.properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ CidrIp: CLIENTS, IpProtocol: 'tcp', FromPort: 22, ToPort: 22 }),
    ]);
    const egress = resourcesOf(server, 'AWS::EC2::SecurityGroupEgress').filter(
      (e) => flatten(e.properties.GroupId) === `\${${sftpGroup?.id}.GroupId}`,
    );
    expect(egress.map((e) => [e.properties.FromPort, e.properties.ToPort])).toEqual([[2222, 2222]]);
    expect(flatten(egress[0]?.properties.DestinationSecurityGroupId)).toBe(
      `\${${instanceGroup?.id}.GroupId}`,
    );
    const toInstances = resourcesOf(server, 'AWS::EC2::SecurityGroupIngress').filter(
      (i) => i.properties.FromPort === 2222 || i.properties.ToPort === 2222,
    );
    expect(toInstances).toHaveLength(1);
    expect(toInstances[0]?.properties).toMatchObject({ IpProtocol: 'tcp', FromPort: 2222, ToPort: 2222 });
    expect(flatten(toInstances[0]?.properties.SourceSecurityGroupId)).toBe(`\${${sftpGroup?.id}.GroupId}`);
    expect(flatten(toInstances[0]?.properties.GroupId)).toBe(`\${${instanceGroup?.id}.GroupId}`);
  });

  it('keeps one host key in Secrets Manager, a generated placeholder in the template, never a key', () => {
    expect(hostKey).toBeDefined();
    expect(hostKey?.properties.SecretString).toBeUndefined();
    expect(hostKey?.properties.GenerateSecretString).toBeDefined();
    expect(flatten(server.toJSON())).not.toContain('PRIVATE KEY-----');
    const userData = flatten(resourcesOf(server, 'AWS::EC2::Instance')[0]?.properties.UserData);
    expect(userData).toContain(`INLET_NODE_SFTP_HOST_KEY_SECRET=${ref(hostKey?.id)}`);
    // inlet-node writes it for the service, readable by it alone.
    expect(userData).toContain(`INLET_NODE_SFTP_HOST_KEY_FILE:-${SFTP_HOST_KEY_PATH}}`);
    expect(userData).toContain('INLET_NODE_SERVICE_USER:-inlet}');
    expect(userData).toContain(
      'install -o "$service_user" -g "$service_user" -m 0600 "$key" "$host_key_file"',
    );
  });

  it('lets the instance role read and write that secret, and do nothing else with it', () => {
    const statements = resourcesOf(server, 'AWS::IAM::Policy')
      .filter((p) => p.id.startsWith('Role'))
      .flatMap(
        (p) => (p.properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement ?? [],
      );
    const onHostKey = statements.filter((s) => flatten(s.Resource).includes(ref(hostKey?.id)));
    expect(onHostKey).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
        Resource: { Ref: hostKey?.id },
      }),
    ]);
    // No other statement may write any secret.
    const writers = statements.filter((s) => flatten(s.Action).includes('secretsmanager:PutSecretValue'));
    expect(writers).toHaveLength(1);
  });

  it('turns the door on in the service environment, with the host key file', () => {
    const env = environmentFile({
      region: 'us-east-1',
      databaseSecretArn: 'arn',
      databaseHost: 'proxy',
      eventsTopicArn: 'topic',
    });
    expect(env).toContain('INLET_SFTP_PORT=2222\n');
    expect(env).toContain(`INLET_SFTP_HOST_KEY_FILE=${SFTP_HOST_KEY_PATH}\n`);
    expect(env).not.toContain('INLET_SFTP_PORT=off');
  });

  it('counts refused sign-ins from the service log and pages through the alarm topic', () => {
    const filter = resourcesOf(server, 'AWS::Logs::MetricFilter').find((f) =>
      flatten(f.properties.MetricTransformations).includes(SFTP_FAILED_SIGN_INS_METRIC),
    );
    expect(filter?.properties.FilterPattern).toBe(`{ $.message = "${SFTP_SIGN_IN_REFUSED}" }`);
    expect(flatten(filter?.properties.LogGroupName)).toMatch(/^\$\{Ref:AppLog/);
    expect(filter?.properties.MetricTransformations).toEqual([
      expect.objectContaining({
        MetricNamespace: 'Inlet',
        MetricName: SFTP_FAILED_SIGN_INS_METRIC,
        MetricValue: '1',
      }),
    ]);
    const alarm = resourcesOf(extensions, 'AWS::CloudWatch::Alarm').find(
      (a) => a.properties.MetricName === SFTP_FAILED_SIGN_INS_METRIC,
    );
    expect(alarm?.properties).toMatchObject({ Namespace: 'Inlet', Statistic: 'Sum', Period: 300 });
    const topic = resourcesOf(extensions, 'AWS::SNS::Topic')[0]?.id;
    expect(alarm?.properties.AlarmActions).toEqual([{ Ref: topic }]);
  });

  it('stays cdk-nag clean', () => {
    expect(inlet.checks?.validateScope(inlet.app).violations).toEqual([]);
  });
});
