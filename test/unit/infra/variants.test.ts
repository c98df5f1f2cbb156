/**
 * The options a production deployment turns on, all at once: TLS on an internet-facing load balancer,
 * two instances, Multi-AZ, NAT, a longer backup retention, pipelines that tag and move objects, and
 * protections off (the teardown step). The cdk-nag checks still find nothing unacknowledged.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flatten, resourcesOf, synthInlet } from './harness.js';
import { allowedActions, unexplainedWildcards } from './policy-scan.js';

const CERTIFICATE = 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const config = join(mkdtempSync(join(tmpdir(), 'inlet-infra-config-')), 'inlet.config.yaml');
writeFileSync(
  config,
  `pipelines:
  - { name: orders, match: ["orders/**"], format: csv, table: public.orders, createTable: true,
      columns: [{ name: order_id, type: bigint }], afterLoad: move }
  - { name: events, match: ["events/**"], format: ndjson, table: public.events, createTable: true,
      columns: [{ name: id, type: bigint }], afterLoad: tag }
`,
);

const inlet = synthInlet(
  {
    certificateArn: CERTIFICATE,
    publicLoadBalancer: 'true',
    natGateways: '1',
    serverInstances: '2',
    multiAz: 'true',
    protect: 'false',
    dbBackupRetentionDays: '14',
    config,
  },
  { nag: true },
);
const { stacks } = inlet;
if (!stacks.serverless || !stacks.server) throw new Error('both shapes expected');
const network = inlet.template(stacks.network);
const data = inlet.template(stacks.data);
const serverless = inlet.template(stacks.serverless);
const server = inlet.template(stacks.server);

describe('a production-style deployment', () => {
  it('passes the cdk-nag AwsSolutions checks with nothing unacknowledged', () => {
    expect(inlet.checks?.validateScope(inlet.app).violations).toEqual([]);
  });

  it('listens with TLS only, with the given certificate and a modern policy, on an internet-facing load balancer', () => {
    server.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERTIFICATE }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
    server.resourcePropertiesCountIs('AWS::ElasticLoadBalancingV2::Listener', { Port: 80 }, 0);
    server.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    const lbGroup = resourcesOf(server, 'AWS::EC2::SecurityGroup').find((g) =>
      String(g.properties.GroupDescription).startsWith('Inlet load balancer'),
    );
    expect(lbGroup?.properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443 }),
    ]);
  });

  it('keeps the instances private even then, one per AZ, each with its own spool volume', () => {
    const instances = resourcesOf(server, 'AWS::EC2::Instance');
    expect(instances).toHaveLength(2);
    const subnets = instances.map((i) =>
      flatten((i.properties.NetworkInterfaces as Array<{ SubnetId: unknown }>)[0]?.SubnetId),
    );
    expect(new Set(subnets).size).toBe(2);
    for (const subnet of subnets) expect(subnet).toMatch(/appSubnet/);
    for (const instance of instances) {
      expect(
        (instance.properties.NetworkInterfaces as Array<{ AssociatePublicIpAddress: boolean }>)[0]
          ?.AssociatePublicIpAddress,
      ).toBe(false);
      expect(instance.properties.DisableApiTermination).toBe(false);
    }
    server.resourceCountIs('AWS::EC2::Volume', 2);
    // Each instance attaches its own spool and joins the target group itself (inlet-node up).
    server.resourceCountIs('AWS::EC2::VolumeAttachment', 0);
    const volumes = resourcesOf(server, 'AWS::EC2::Volume').map((v) => `\${Ref:${v.id}}`);
    const userData = instances.map((i) => flatten(i.properties.UserData));
    expect(
      volumes.map((v) => userData.filter((u) => u.includes(`INLET_NODE_SPOOL_VOLUME=${v}`)).length),
    ).toEqual([1, 1]);
  });

  it('adds public subnets and a NAT gateway, and gives the app subnets egress through it', () => {
    network.resourceCountIs('AWS::EC2::NatGateway', 1);
    network.resourceCountIs('AWS::EC2::InternetGateway', 1);
    const subnets = resourcesOf(network, 'AWS::EC2::Subnet').map((s) => flatten(s.properties.Tags));
    expect(subnets.filter((tags) => tags.includes('Private'))).toHaveLength(2);
    expect(subnets.filter((tags) => tags.includes('Isolated'))).toHaveLength(2);
  });

  it('runs the database Multi-AZ with the longer retention, deletion protection off for teardown', () => {
    data.hasResourceProperties('AWS::RDS::DBInstance', {
      MultiAZ: true,
      BackupRetentionPeriod: 14,
      DeletionProtection: false,
    });
    data.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot' });
  });

  it('grants tagging and moving only because the pipelines ask for it, and only where it happens', () => {
    const actions = allowedActions(serverless, 'IngestFunction');
    expect(flatten(actions.get('s3:PutObject'))).toMatch(/\/processed\/\*,.*\/rejected\/\*$/);
    expect(actions.has('s3:DeleteObject')).toBe(true);
    expect(actions.has('s3:PutObjectTagging')).toBe(true);
    expect(actions.has('s3:GetObjectTagging')).toBe(true);
    for (const [, template] of inlet.templates()) expect(unexplainedWildcards(template)).toEqual([]);
  });
});
