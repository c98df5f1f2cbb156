import { describe, expect, it } from 'vitest';
import { PRODUCTION_DATABASE_CLASS, readSettings } from '../../../infra/settings.js';
import { describeSettings } from '../../../infra/settings-report.js';
import { interfaceEndpointsFor } from '../../../infra/stacks/network-stack.js';

const context = (values: Record<string, unknown>) => ({ tryGetContext: (key: string) => values[key] });

describe('deployment settings from CDK context', () => {
  it('defaults to a cheap, protected, internal deployment of both shapes', () => {
    const settings = readSettings(context({}), {});
    expect(settings).toMatchObject({
      prefix: 'Inlet',
      region: 'us-east-1',
      shape: 'both',
      natGateways: 0,
      protect: true,
      database: { instanceClass: 't4g.micro', multiAz: false, backupRetentionDays: 7 },
      lambda: { concurrency: 5, timeoutSeconds: 300, batchSize: 5, codeDir: 'dist-deploy/lambda' },
      server: {
        instances: 1,
        bundleDir: 'dist-deploy/server',
        certificateArn: undefined,
        publicLoadBalancer: false,
      },
    });
  });

  it('takes the CLI region, and -c values as strings or cdk.json values as JSON', () => {
    expect(readSettings(context({}), { CDK_DEFAULT_REGION: 'eu-west-1' }).region).toBe('eu-west-1');
    const settings = readSettings(
      context({
        multiAz: 'true',
        serverInstances: '3',
        lambdaConcurrency: 20,
        protect: false,
        region: 'ap-southeast-2',
      }),
      {},
    );
    expect(settings.database.multiAz).toBe(true);
    expect(settings.server.instances).toBe(3);
    expect(settings.lambda.concurrency).toBe(20);
    expect(settings.protect).toBe(false);
    expect(settings.region).toBe('ap-southeast-2');
  });

  it('refuses values that would weaken a baseline or cannot work, naming the key', () => {
    expect(() => readSettings(context({ dbBackupRetentionDays: '3' }), {})).toThrow(
      /dbBackupRetentionDays.*7 to 35/,
    );
    expect(() => readSettings(context({ publicLoadBalancer: 'true' }), {})).toThrow(/needs certificateArn/);
    expect(() => readSettings(context({ certificateArn: 'not-an-arn' }), {})).toThrow(/certificateArn/);
    expect(() => readSettings(context({ shape: 'kubernetes' }), {})).toThrow(
      /shape.*both, serverless, server/,
    );
    expect(() => readSettings(context({ multiAz: 'yes' }), {})).toThrow(/multiAz.*true or false/);
    expect(() => readSettings(context({ lambdaConcurrency: '1' }), {})).toThrow(/lambdaConcurrency/);
  });

  it('leaves account-wide settings alone unless asked', () => {
    const settings = readSettings(context({}), {});
    expect(settings.backups.blockSnapshotPublicAccess).toBe(false);
    expect(settings.apiGatewayLoggingRole).toBe(false);
    const opted = readSettings(
      context({ blockSnapshotPublicAccess: 'true', apiGatewayLoggingRole: 'true' }),
      {},
    );
    expect(opted.backups.blockSnapshotPublicAccess).toBe(true);
    expect(opted.apiGatewayLoggingRole).toBe(true);
  });

  it('subscribes every address of a comma-separated alarmEmail, and refuses what is not one', () => {
    expect(readSettings(context({ alarmEmail: 'a@example.com,b@example.com' }), {}).alarmEmails).toEqual([
      'a@example.com',
      'b@example.com',
    ]);
    expect(() => readSettings(context({ alarmEmail: 'ops' }), {})).toThrow(/alarmEmail/);
  });

  describe('profile=production', () => {
    const ready = {
      profile: 'production',
      certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
      clientCidr: '203.0.113.0/24',
      alarmEmail: 'ops@example.com',
    };

    it('refuses to synthesize the server door without TLS and a client range, or alarms without a recipient', () => {
      let message = '';
      try {
        readSettings(context({ profile: 'production' }), {});
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/profile=production needs certificateArn .*; clientCidr .*; alarmEmail/);
      for (const key of ['certificateArn', 'clientCidr', 'alarmEmail']) {
        expect(() => readSettings(context({ ...ready, [key]: undefined }), {}), key).toThrow(new RegExp(key));
      }
      // Without the server door, neither TLS nor a client range is needed.
      expect(
        readSettings(
          context({ profile: 'production', shape: 'serverless', alarmEmail: 'ops@example.com' }),
          {},
        ).profile,
      ).toBe('production');
    });

    it('chooses Multi-AZ, Performance Insights, a larger class and stack termination protection', () => {
      const settings = readSettings(context(ready), {});
      expect(settings.database).toMatchObject({
        instanceClass: PRODUCTION_DATABASE_CLASS,
        multiAz: true,
        performanceInsights: true,
      });
      expect(settings.protect).toBe(true);
      expect(settings.stackTerminationProtection).toBe(true);
      // Protection may still be lifted on purpose, to tear down.
      expect(readSettings(context({ ...ready, protect: 'false' }), {}).stackTerminationProtection).toBe(
        false,
      );
      expect(() => readSettings(context({ ...ready, dbInstanceClass: 't4g.micro' }), {})).toThrow(
        /Performance Insights.*db\.t4g\.micro/,
      );
    });

    it('says what it chose and where each choice came from', () => {
      const report = describeSettings(readSettings(context({ ...ready, multiAz: 'false' }), {}));
      expect(report).toMatch(/^inlet: profile production, shape both$/m);
      expect(report).toContain(`db.${PRODUCTION_DATABASE_CLASS} (profile production)`);
      expect(report).toContain('Multi-AZ off (-c)');
      expect(report).toContain('Performance Insights on (profile production)');
      expect(report).toMatch(
        /HTTPS only on 443 with ELBSecurityPolicy-TLS13-1-2-2021-06 \(TLS 1\.2 and later\), clients from 203\.0\.113\.0\/24/,
      );
      expect(report).toContain('e-mailed to ops@example.com');
      expect(report).toMatch(/EBS snapshot public-access block left as the account has it/);
    });
  });

  it('creates only the interface endpoints the chosen shapes call', () => {
    const serverless = Object.keys(interfaceEndpointsFor(readSettings(context({ shape: 'serverless' }), {})));
    const both = Object.keys(interfaceEndpointsFor(readSettings(context({}), {})));
    // The hand-over task: RunTask from the function, the image from ECR, its logs.
    expect(serverless.sort()).toEqual(['EcrApi', 'EcrDocker', 'Ecs', 'Logs', 'SecretsManager', 'Sns']);
    expect(both.sort()).toEqual([
      'CloudFormation',
      'Ec2',
      'Ec2Messages',
      'EcrApi',
      'EcrDocker',
      'Ecs',
      'ElasticLoadBalancing',
      'Logs',
      'Monitoring',
      'SecretsManager',
      'Sns',
      'Ssm',
      'SsmMessages',
    ]);
  });
});
