/** The Lambda's settings: defaults, empty values, every variable read, errors that name the variable. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { lambdaSettings } from '../../../src/serverless/settings.js';

const URL = 'postgres://inlet@proxy.internal/inlet';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:inlet-db';

describe('lambdaSettings', () => {
  it('has the documented defaults once it has a database', () => {
    expect(lambdaSettings({ DATABASE_URL: URL })).toEqual({
      config: 'inlet.config.yaml',
      database: { url: URL },
      s3: {},
      notifyTopicArn: undefined,
    });
  });

  it('takes empty or blank variables as unset', () => {
    for (const blank of ['', '  ']) {
      const env = {
        DATABASE_URL: URL,
        INLET_CONFIG: blank,
        INLET_DATABASE_SECRET_ARN: blank,
        INLET_NOTIFY_TOPIC_ARN: blank,
        INLET_S3_ENDPOINT: blank,
        AWS_REGION: blank,
      };
      expect(lambdaSettings(env)).toEqual(lambdaSettings({ DATABASE_URL: URL }));
    }
  });

  it('reads every variable, DATABASE_URL before the secret', () => {
    const env = {
      INLET_CONFIG: 's3://inlet-config/inlet.config.yaml',
      INLET_DATABASE_SECRET_ARN: SECRET,
      INLET_DATABASE_HOST: 'proxy.internal',
      INLET_DATABASE_SSLMODE: 'verify-full',
      INLET_NOTIFY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:inlet-events',
      AWS_REGION: 'eu-west-1',
    };
    expect(lambdaSettings(env)).toEqual({
      config: 's3://inlet-config/inlet.config.yaml',
      database: { secret: { arn: SECRET, host: 'proxy.internal', sslmode: 'verify-full' } },
      s3: { region: 'eu-west-1' },
      notifyTopicArn: 'arn:aws:sns:eu-west-1:123456789012:inlet-events',
    });
    expect(lambdaSettings({ ...env, DATABASE_URL: URL }).database).toEqual({ url: URL });
  });

  it('stops without a database, an empty DATABASE_URL being none', () => {
    for (const env of [{}, { DATABASE_URL: ' ', INLET_DATABASE_SECRET_ARN: '' }]) {
      let error: unknown;
      try {
        lambdaSettings(env);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'no_database' });
      expect((error as Error).message).toMatch(/DATABASE_URL nor INLET_DATABASE_SECRET_ARN/);
    }
  });

  it.each([
    ['INLET_DATABASE_SSLMODE', 'prefer', '"verify-full", "no-verify" or "disable"'],
    ['INLET_NOTIFY_TOPIC_ARN', 'arn:aws:sqs:eu-west-1:123456789012:q', 'an SNS topic ARN'],
    ['INLET_S3_ENDPOINT', 's3.local', 'an http:// or https:// URL'],
  ])('names %s and what it accepts when it is %j', (name, value, accepts) => {
    expect(() => lambdaSettings({ INLET_DATABASE_SECRET_ARN: SECRET, [name]: value })).toThrow(
      new RegExp(`^${name} must be ${accepts.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
    );
  });
});
