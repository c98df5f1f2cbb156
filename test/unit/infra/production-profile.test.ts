/**
 * `-c profile=production` as a user runs it: with what production needs, the templates hold what the
 * profile chose, with the account-wide settings opted into, cdk-nag clean. That the real entry point,
 * infra/app.ts, refuses to synthesize without it is test/integration/infra/app.test.ts (a process of its own).
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { resourcesOf, synthInlet } from './harness.js';

const CERTIFICATE = 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const CLIENTS = '203.0.113.0/24';

const inlet = synthInlet(
  {
    profile: 'production',
    certificateArn: CERTIFICATE,
    clientCidr: CLIENTS,
    alarmEmail: 'ops@example.com',
    blockSnapshotPublicAccess: 'true',
    apiGatewayLoggingRole: 'true',
  },
  { nag: true },
);
const { stacks } = inlet;
if (!stacks.server) throw new Error('both shapes expected');
const data = inlet.template(stacks.data);
const server = inlet.template(stacks.server);
const backups = inlet.template(stacks.backups);
const extensions = inlet.template(stacks.extensions);

describe('profile=production', () => {
  it('passes the cdk-nag AwsSolutions checks with nothing unacknowledged', () => {
    expect(inlet.checks?.validateScope(inlet.app).violations).toEqual([]);
  });

  it('says on stderr what it chose', () => {
    expect(inlet.report).toMatch(/^inlet: profile production/);
    expect(inlet.report).toContain('Multi-AZ on (profile production)');
    expect(inlet.report).toContain(`clients from ${CLIENTS}`);
  });

  it('runs the database Multi-AZ, with Performance Insights, on the larger class, deletion-protected', () => {
    data.hasResourceProperties('AWS::RDS::DBInstance', {
      MultiAZ: true,
      EnablePerformanceInsights: true,
      DBInstanceClass: 'db.m6g.large',
      DeletionProtection: true,
    });
  });

  it('protects every stack from deletion', () => {
    for (const stack of inlet.app.node.children.filter((c) => 'terminationProtection' in c)) {
      expect((stack as { terminationProtection: boolean }).terminationProtection, stack.node.id).toBe(true);
    }
    const manifest = inlet.app.synth();
    for (const artifact of manifest.stacks)
      expect(artifact.terminationProtection, artifact.stackName).toBe(true);
  });

  it('serves the server door with HTTPS only, TLS 1.2 or later, to the client range only', () => {
    // The other listener is the SFTP door's TCP 22 (SSH carries its own encryption): sftp-door.test.ts.
    const listeners = resourcesOf(server, 'AWS::ElasticLoadBalancingV2::Listener');
    expect(listeners.map((l) => [l.properties.Port, l.properties.Protocol])).toEqual([
      [443, 'HTTPS'],
      [22, 'TCP'],
    ]);
    server.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Certificates: [{ CertificateArn: CERTIFICATE }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
    const lbGroup = resourcesOf(server, 'AWS::EC2::SecurityGroup').find((g) =>
      String(g.properties.GroupDescription).startsWith('Inlet load balancer'),
    );
    expect(lbGroup?.properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ CidrIp: CLIENTS, FromPort: 443, ToPort: 443 }),
    ]);
    server.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'true' }]),
    });
  });

  it('e-mails the alarms to the address given', () => {
    extensions.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('sets the account-wide settings only because they were opted into, and keeps them on destroy', () => {
    backups.hasResourceProperties('AWS::EC2::SnapshotBlockPublicAccess', { State: 'block-all-sharing' });
    backups.hasResource('AWS::EC2::SnapshotBlockPublicAccess', { DeletionPolicy: 'Retain' });
    extensions.resourceCountIs('AWS::ApiGateway::Account', 1);
    extensions.hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Retain' });
  });
});
