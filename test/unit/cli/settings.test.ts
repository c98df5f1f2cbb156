/** The command line's settings: defaults, empty values, options over variables, errors that name the variable. */
import { describe, expect, it } from 'vitest';
import {
  colourAllowed,
  databaseTarget,
  dataDir,
  logLevel,
  namedConfig,
  s3Connection,
  snapshotEnvironment,
} from '../../../src/cli/settings.js';

const BLANK = ['', '   '];

describe('dataDir', () => {
  it('is .inlet unless INLET_DATA_DIR names another, empty meaning unset', () => {
    expect(dataDir({})).toBe('.inlet');
    for (const blank of BLANK) expect(dataDir({ INLET_DATA_DIR: blank })).toBe('.inlet');
    expect(dataDir({ INLET_DATA_DIR: ' /var/lib/inlet ' })).toBe('/var/lib/inlet');
  });
});

describe('namedConfig', () => {
  it('is --config, else INLET_CONFIG, else none (the command picks its default)', () => {
    expect(namedConfig('a.yaml', { INLET_CONFIG: 'b.yaml' })).toBe('a.yaml');
    expect(namedConfig(undefined, { INLET_CONFIG: 'b.yaml' })).toBe('b.yaml');
    expect(namedConfig(undefined, {})).toBeUndefined();
  });

  it('takes an empty variable or option as unset', () => {
    for (const blank of BLANK) {
      expect(namedConfig(undefined, { INLET_CONFIG: blank })).toBeUndefined();
      expect(namedConfig(blank, { INLET_CONFIG: 'b.yaml' })).toBe('b.yaml');
    }
  });
});

describe('logLevel', () => {
  it("is the command's own level unless INLET_LOG_LEVEL says otherwise", () => {
    expect(logLevel('warn', {})).toBe('warn');
    for (const blank of BLANK) expect(logLevel('info', { INLET_LOG_LEVEL: blank })).toBe('info');
    expect(logLevel('warn', { INLET_LOG_LEVEL: 'debug' })).toBe('debug');
  });

  it('names the variable and the levels when it is none of them', () => {
    expect(() => logLevel('warn', { INLET_LOG_LEVEL: 'verbose' })).toThrow(
      'INLET_LOG_LEVEL must be "debug", "info", "warn", "error" or "silent", got "verbose".',
    );
  });
});

describe('colourAllowed', () => {
  it('is turned off by any value of NO_COLOR, not by an empty one (no-color.org)', () => {
    expect(colourAllowed({})).toBe(true);
    for (const blank of BLANK) expect(colourAllowed({ NO_COLOR: blank })).toBe(true);
    expect(colourAllowed({ NO_COLOR: '1' })).toBe(false);
    expect(colourAllowed({ NO_COLOR: 'false' })).toBe(false);
  });
});

describe('databaseTarget', () => {
  const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:inlet-db';

  it('is the embedded database in the data directory when nothing is set', () => {
    expect(databaseTarget(undefined, {})).toEqual({ url: undefined, secret: undefined, dataDir: '.inlet' });
    const blanks = { DATABASE_URL: ' ', INLET_DATABASE_SECRET_ARN: '', INLET_DATA_DIR: '/srv/inlet' };
    expect(databaseTarget('', blanks)).toEqual({ url: undefined, secret: undefined, dataDir: '/srv/inlet' });
  });

  it('takes --database-url over DATABASE_URL over the secret', () => {
    const env = { DATABASE_URL: 'postgres://env@db/env', INLET_DATABASE_SECRET_ARN: SECRET };
    expect(databaseTarget('postgres://opt@db/opt', env).url).toBe('postgres://opt@db/opt');
    expect(databaseTarget(undefined, env)).toMatchObject({ url: 'postgres://env@db/env', secret: undefined });
  });

  it("reads the secret's host and TLS mode, verify-full by default", () => {
    expect(databaseTarget(undefined, { INLET_DATABASE_SECRET_ARN: SECRET }).secret).toEqual({
      arn: SECRET,
      host: undefined,
      sslmode: 'verify-full',
    });
    const env = {
      INLET_DATABASE_SECRET_ARN: SECRET,
      INLET_DATABASE_HOST: 'proxy.internal',
      INLET_DATABASE_SSLMODE: 'no-verify',
    };
    expect(databaseTarget(undefined, env).secret).toEqual({
      arn: SECRET,
      host: 'proxy.internal',
      sslmode: 'no-verify',
    });
    const blanks = {
      INLET_DATABASE_SECRET_ARN: SECRET,
      INLET_DATABASE_HOST: ' ',
      INLET_DATABASE_SSLMODE: '',
    };
    expect(databaseTarget(undefined, blanks).secret).toMatchObject({
      host: undefined,
      sslmode: 'verify-full',
    });
  });

  it('names INLET_DATABASE_SSLMODE and its modes when it is none of them, and only when a secret uses it', () => {
    const env = { INLET_DATABASE_SECRET_ARN: SECRET, INLET_DATABASE_SSLMODE: 'require' };
    expect(() => databaseTarget(undefined, env)).toThrow(
      'INLET_DATABASE_SSLMODE must be "verify-full", "no-verify" or "disable", got "require".',
    );
    expect(databaseTarget('postgres://opt@db/opt', env).url).toBe('postgres://opt@db/opt');
  });
});

describe('snapshotEnvironment', () => {
  it('leaves everything to the defaults when nothing, or nothing but blanks, is set', () => {
    const names = [
      'INLET_SNAPSHOT_PROVIDER',
      'INLET_SNAPSHOT_TARGET',
      'INLET_SNAPSHOT_SCHEDULE',
      'INLET_SNAPSHOT_VOLUME_ID',
      'INLET_SNAPSHOT_KEY',
      'INLET_SNAPSHOT_KEY_FILE',
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
      'AWS_EC2_METADATA_SERVICE_ENDPOINT',
    ];
    for (const env of [{}, Object.fromEntries(names.map((name) => [name, ' ']))]) {
      expect(Object.values(snapshotEnvironment(env)).filter((value) => value !== undefined)).toEqual([]);
    }
  });

  it('reads every variable, the region from AWS_REGION before AWS_DEFAULT_REGION', () => {
    const env = {
      INLET_SNAPSHOT_PROVIDER: 'ebs',
      INLET_SNAPSHOT_TARGET: 's3://backups/inlet',
      INLET_SNAPSHOT_SCHEDULE: 'off',
      INLET_SNAPSHOT_VOLUME_ID: 'vol-0123456789abcdef0',
      INLET_SNAPSHOT_KEY: 'a2V5',
      INLET_SNAPSHOT_KEY_FILE: '/etc/inlet/snapshot.key',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:1338',
    };
    expect(snapshotEnvironment(env)).toEqual({
      provider: 'ebs',
      target: 's3://backups/inlet',
      schedule: 'off',
      volumeId: 'vol-0123456789abcdef0',
      key: 'a2V5',
      keyFile: '/etc/inlet/snapshot.key',
      region: 'eu-west-1',
      metadataEndpoint: 'http://127.0.0.1:1338',
    });
    expect(snapshotEnvironment({ ...env, AWS_REGION: 'us-west-2' }).region).toBe('us-west-2');
  });

  it('names the variable of a value it cannot use', () => {
    expect(() => snapshotEnvironment({ INLET_SNAPSHOT_PROVIDER: 'zfs' })).toThrow(
      'INLET_SNAPSHOT_PROVIDER must be "archive" or "ebs", got "zfs".',
    );
    expect(() => snapshotEnvironment({ AWS_EC2_METADATA_SERVICE_ENDPOINT: '169.254.169.254' })).toThrow(
      /^AWS_EC2_METADATA_SERVICE_ENDPOINT must be an http:\/\/ or https:\/\/ URL/,
    );
  });
});

describe('s3Connection', () => {
  it('reads the S3 variables (their rules: test/unit/settings/s3.test.ts)', () => {
    expect(s3Connection({})).toEqual({});
    expect(s3Connection({ INLET_S3_ENDPOINT: 'http://127.0.0.1:9000' })).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
    });
    expect(() => s3Connection({ INLET_S3_ACCESS_KEY_ID: 'id' })).toThrow(/INLET_S3_SECRET_ACCESS_KEY/);
  });
});
