import { describe, expect, it } from 'vitest';
import { readSettings } from '../../../infra/settings.js';
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
      lambda: { concurrency: 5, timeoutSeconds: 300, batchSize: 5, codeDir: 'dist/lambda' },
      server: { instances: 1, certificateArn: undefined, publicLoadBalancer: false },
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

  it('creates only the interface endpoints the chosen shapes call', () => {
    const serverless = Object.keys(interfaceEndpointsFor(readSettings(context({ shape: 'serverless' }), {})));
    const both = Object.keys(interfaceEndpointsFor(readSettings(context({}), {})));
    expect(serverless.sort()).toEqual(['SecretsManager', 'Sns']);
    expect(both.sort()).toEqual([
      'Ec2Messages',
      'Logs',
      'Monitoring',
      'SecretsManager',
      'Sns',
      'Ssm',
      'SsmMessages',
    ]);
  });
});
