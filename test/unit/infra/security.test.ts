/**
 * The AWS security baselines (docs/deploy-aws.md), asserted on every resource of every stack of the default
 * deployment (both shapes): a new bucket, queue, volume or role is covered without a new test.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { acknowledgments, resourcesOf, synthInlet } from './harness.js';
import { STAR_ONLY_ACTIONS, unexplainedWildcards } from './policy-scan.js';

// With the cdk-nag AwsSolutions checks registered, as `npm run synth` runs them: synthesis throws on a finding.
const inlet = synthInlet({}, { nag: true });
const templates = inlet.templates();
const all = [...templates.entries()];

function each(
  type: string,
): Array<{ stack: string; id: string; properties: Record<string, unknown>; template: Template }> {
  return all.flatMap(([stack, template]) =>
    resourcesOf(template, type).map((resource) => ({ stack, template, ...resource })),
  );
}

/** The resource policies of a type that refuse requests without TLS. */
function denyInsecureTransport(template: Template, policyType: string, targetKey: string): string[] {
  return resourcesOf(template, policyType).flatMap(({ properties }) => {
    const statements = (properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement;
    const denies = statements.some(
      (s) =>
        s.Effect === 'Deny' &&
        JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
    );
    if (!denies) return [];
    const targets = properties[targetKey];
    return (Array.isArray(targets) ? targets : [targets]).map((target) => JSON.stringify(target));
  });
}

describe('security baselines (docs/deploy-aws.md), every stack', () => {
  it('deploys all six stacks', () => {
    expect([...templates.keys()].sort()).toEqual(
      [
        'InletBackups',
        'InletData',
        'InletExtensions',
        'InletNetwork',
        'InletServer',
        'InletServerless',
      ].sort(),
    );
  });

  it('encrypts every bucket, blocks its public access, enforces TLS by bucket policy', () => {
    const buckets = each('AWS::S3::Bucket');
    expect(buckets.length).toBeGreaterThanOrEqual(4);
    for (const bucket of buckets) {
      const sse = (bucket.properties.BucketEncryption as { ServerSideEncryptionConfiguration: unknown[] })
        .ServerSideEncryptionConfiguration;
      expect(sse, `${bucket.stack}/${bucket.id}`).toEqual([
        { ServerSideEncryptionByDefault: { SSEAlgorithm: expect.stringMatching(/^(AES256|aws:kms)$/) } },
      ]);
      expect(bucket.properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      const tlsOnly = denyInsecureTransport(bucket.template, 'AWS::S3::BucketPolicy', 'Bucket');
      expect(tlsOnly, `${bucket.stack}/${bucket.id} has no TLS-only policy`).toContain(
        JSON.stringify({ Ref: bucket.id }),
      );
    }
  });

  it('sets encryption explicitly on every SQS queue and refuses requests without TLS', () => {
    const queues = each('AWS::SQS::Queue');
    // The ingest queue, its dead-letter queue, the failed hand-over tasks and the failed-rotations queue.
    expect(queues.length).toBe(4);
    for (const queue of queues) {
      const explicit =
        queue.properties.SqsManagedSseEnabled === true || queue.properties.KmsMasterKeyId !== undefined;
      expect(explicit, `${queue.stack}/${queue.id}`).toBe(true);
      expect(denyInsecureTransport(queue.template, 'AWS::SQS::QueuePolicy', 'Queues')).toContain(
        JSON.stringify({ Ref: queue.id }),
      );
    }
  });

  it('gives every queue that is not a dead-letter queue a DLQ after five receives', () => {
    const queues = each('AWS::SQS::Queue');
    const sources = queues.filter((queue) => queue.properties.RedrivePolicy !== undefined);
    expect(sources).toHaveLength(1);
    for (const source of sources) {
      const redrive = source.properties.RedrivePolicy as {
        maxReceiveCount: number;
        deadLetterTargetArn: unknown;
      };
      expect(redrive.maxReceiveCount).toBe(5);
      const target = JSON.stringify(redrive.deadLetterTargetArn);
      const dlq = queues.find((queue) => target.includes(queue.id));
      expect(dlq, 'the DLQ is a queue of this app').toBeDefined();
    }
  });

  it('encrypts every SNS topic with KMS and refuses publishing without TLS', () => {
    const topics = each('AWS::SNS::Topic');
    expect(topics.length).toBe(2);
    for (const topic of topics) {
      expect(topic.properties.KmsMasterKeyId, `${topic.stack}/${topic.id}`).toBeDefined();
      expect(denyInsecureTransport(topic.template, 'AWS::SNS::TopicPolicy', 'Topics')).toContain(
        JSON.stringify({ Ref: topic.id }),
      );
    }
  });

  it('encrypts every EBS volume: the spool volumes and every instance block device', () => {
    const volumes = each('AWS::EC2::Volume');
    expect(volumes.length).toBeGreaterThanOrEqual(1);
    for (const volume of volumes) expect(volume.properties.Encrypted).toBe(true);
    for (const instance of each('AWS::EC2::Instance')) {
      const devices = instance.properties.BlockDeviceMappings as Array<{ Ebs?: { Encrypted?: boolean } }>;
      expect(devices.length).toBeGreaterThan(0);
      for (const device of devices) expect(device.Ebs?.Encrypted).toBe(true);
    }
  });

  it('encrypts the database, keeps it private, protected from deletion and backed up for 7 days or more', () => {
    const databases = each('AWS::RDS::DBInstance');
    expect(databases).toHaveLength(1);
    for (const db of databases) {
      expect(db.properties.StorageEncrypted).toBe(true);
      expect(db.properties.PubliclyAccessible).toBe(false);
      expect(db.properties.DeletionProtection).toBe(true);
      expect(db.properties.BackupRetentionPeriod).toBeGreaterThanOrEqual(7);
    }
    for (const proxy of each('AWS::RDS::DBProxy')) expect(proxy.properties.RequireTLS).toBe(true);
  });

  it('requires IMDSv2 on every instance and gives none a public IP', () => {
    const instances = each('AWS::EC2::Instance');
    expect(instances.length).toBeGreaterThanOrEqual(1);
    for (const instance of instances) {
      expect(instance.properties.MetadataOptions).toMatchObject({
        HttpTokens: 'required',
        HttpEndpoint: 'enabled',
      });
      const interfaces = instance.properties.NetworkInterfaces as Array<{
        AssociatePublicIpAddress?: boolean;
      }>;
      for (const eni of interfaces) expect(eni.AssociatePublicIpAddress).toBe(false);
    }
    expect(each('AWS::EC2::EIP')).toHaveLength(0);
    for (const subnet of each('AWS::EC2::Subnet')) expect(subnet.properties.MapPublicIpOnLaunch).toBe(false);
  });

  it('opens no security group to the internet and keeps the load balancer internal by default', () => {
    for (const group of each('AWS::EC2::SecurityGroup')) {
      for (const rule of (group.properties.SecurityGroupIngress as
        | Array<Record<string, unknown>>
        | undefined) ?? []) {
        expect(rule.CidrIp, `${group.stack}/${group.id}`).not.toBe('0.0.0.0/0');
        expect(rule.CidrIpv6).toBeUndefined();
      }
    }
    for (const rule of each('AWS::EC2::SecurityGroupIngress'))
      expect(rule.properties.CidrIp).not.toBe('0.0.0.0/0');
    for (const lb of each('AWS::ElasticLoadBalancingV2::LoadBalancer'))
      expect(lb.properties.Scheme).toBe('internal');
  });

  it('grants no "*" resource where a specific ARN exists, and no wildcard actions', () => {
    for (const [stack, template] of all) {
      expect(unexplainedWildcards(template), stack).toEqual([]);
    }
    // Every allow-listed action carries a reason.
    for (const reason of Object.values(STAR_ONLY_ACTIONS)) expect(reason.length).toBeGreaterThan(20);
  });

  it('keeps secrets out of templates: functions and instances get the secret ARN, never its value', () => {
    // The only dynamic reference is RDS's own master credentials, resolved by CloudFormation at deploy time.
    for (const [stack, template] of all) {
      for (const [id, resource] of Object.entries(
        template.toJSON().Resources as Record<string, { Type: string }>,
      )) {
        if (resource.Type === 'AWS::RDS::DBInstance') continue;
        expect(JSON.stringify(resource), `${stack}/${id}`).not.toMatch(/resolve:secretsmanager/);
      }
    }
    for (const fn of each('AWS::Lambda::Function')) {
      const variables = ((fn.properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables ?? {}) as Record<string, unknown>;
      for (const name of Object.keys(variables)) expect(name).not.toMatch(/PASSWORD|DATABASE_URL|TOKEN/);
    }
  });

  it('gives every log group a retention period', () => {
    const groups = each('AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(6);
    for (const group of groups)
      expect(group.properties.RetentionInDays, `${group.stack}/${group.id}`).toBeGreaterThan(0);
  });
});

describe('cdk-nag AwsSolutions and CloudFormation rules', () => {
  it('finds nothing unacknowledged: no error and no warning', () => {
    // The synthesis above would have thrown on a finding; run the pack again to see the list itself.
    const report = inlet.checks?.validateScope(inlet.app);
    expect(
      report?.violations.map((v) => `${v.severity} ${v.ruleName} ${v.violatingResources[0]?.constructPath}`),
    ).toEqual([]);
    expect(report?.success).toBe(true);
  });

  it('leaves no CDK warning or error annotation on any stack', () => {
    for (const stack of inlet.app.synth().stacks) {
      const messages = stack.messages.filter((m) => m.level === 'warning' || m.level === 'error');
      expect(
        messages.map((m) => `${m.id}: ${String(m.entry.data)}`),
        stack.stackName,
      ).toEqual([]);
    }
  });

  it('gives every acknowledgment a specific reason', () => {
    const acks = acknowledgments(inlet.app).filter(
      (ack) => !ack.rule.startsWith('CloudFormation-Validate::'),
    );
    expect(acks.length).toBeGreaterThan(5);
    for (const ack of acks) {
      expect(ack.rule, ack.path).toMatch(/^AwsSolutions-[A-Z0-9]+(\[.+\])?$/);
      expect(ack.reason.length, `${ack.path} ${ack.rule}`).toBeGreaterThanOrEqual(80);
      expect(ack.reason).not.toMatch(/placeholder|todo|tbd/i);
    }
  });
});
