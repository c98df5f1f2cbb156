/** The upload service's settings: defaults, empty values, every variable read, errors that name the variable. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { serverSettings, spoolDirectory } from '../../../src/server/settings.js';

const DEFAULTS = {
  host: '0.0.0.0',
  port: undefined,
  spoolDir: path.resolve('/srv/inlet/spool'),
  maxUploadBytes: 1024 ** 3,
  rateLimitPerMinute: 600,
  bootstrapToken: undefined,
  workers: 2,
  minFreeBytes: 256 * 1024 * 1024,
  retentionMs: 168 * 3600 * 1000,
  retentionCount: 10_000,
  notifyTopicArn: undefined,
  sftp: {
    port: undefined,
    hostKeyFile: path.resolve('/srv/inlet/sftp_host_ed25519_key'),
    maxSessionsPerUser: 10,
    idleTimeoutMs: 600_000,
  },
};

const VARIABLES = [
  'INLET_HOST',
  'INLET_PORT',
  'INLET_SPOOL_DIR',
  'INLET_MAX_UPLOAD_BYTES',
  'INLET_RATE_LIMIT',
  'INLET_API_TOKEN',
  'INLET_WORKERS',
  'INLET_SPOOL_MIN_FREE_MB',
  'INLET_SPOOL_RETENTION_HOURS',
  'INLET_SPOOL_KEEP',
  'INLET_NOTIFY_TOPIC_ARN',
  'INLET_SFTP_PORT',
  'INLET_SFTP_HOST_KEY_FILE',
  'INLET_SFTP_MAX_SESSIONS',
  'INLET_SFTP_IDLE_TIMEOUT_SECONDS',
];

describe('serverSettings', () => {
  it('has the documented defaults', () => {
    expect(serverSettings('/srv/inlet', {})).toEqual(DEFAULTS);
  });

  it('takes every empty or blank variable as unset', () => {
    for (const blank of ['', ' \t ']) {
      const env = Object.fromEntries(VARIABLES.map((name) => [name, blank]));
      expect(serverSettings('/srv/inlet', env)).toEqual(DEFAULTS);
    }
  });

  it('reads every variable', () => {
    const env = {
      INLET_HOST: '127.0.0.1',
      INLET_PORT: '9090',
      INLET_SPOOL_DIR: ' /mnt/spool ',
      INLET_MAX_UPLOAD_BYTES: '1048576',
      INLET_RATE_LIMIT: '5',
      INLET_API_TOKEN: ' bootstrap-token ',
      INLET_WORKERS: '64',
      INLET_SPOOL_MIN_FREE_MB: '0',
      INLET_SPOOL_RETENTION_HOURS: '1',
      INLET_SPOOL_KEEP: '0',
      INLET_NOTIFY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:inlet-events',
      INLET_SFTP_PORT: '2022',
      INLET_SFTP_HOST_KEY_FILE: ' /etc/inlet/host_key ',
      INLET_SFTP_MAX_SESSIONS: '3',
      INLET_SFTP_IDLE_TIMEOUT_SECONDS: '30',
    };
    expect(serverSettings('/srv/inlet', env)).toEqual({
      host: '127.0.0.1',
      port: 9090,
      spoolDir: '/mnt/spool',
      maxUploadBytes: 1_048_576,
      rateLimitPerMinute: 5,
      bootstrapToken: 'bootstrap-token',
      workers: 64,
      minFreeBytes: 0,
      retentionMs: 3600 * 1000,
      retentionCount: 0,
      notifyTopicArn: 'arn:aws:sns:eu-west-1:123456789012:inlet-events',
      sftp: { port: 2022, hostKeyFile: '/etc/inlet/host_key', maxSessionsPerUser: 3, idleTimeoutMs: 30_000 },
    });
  });

  it('turns the SFTP door off with INLET_SFTP_PORT=off (any case)', () => {
    expect(serverSettings('.inlet', { INLET_SFTP_PORT: 'off' }).sftp.port).toBe(false);
    expect(serverSettings('.inlet', { INLET_SFTP_PORT: 'OFF' }).sftp.port).toBe(false);
    expect(serverSettings('.inlet', { INLET_SFTP_PORT: '0' }).sftp.port).toBe(0);
  });

  it("lets inlet dev choose the default host, not the variable's value", () => {
    expect(serverSettings('.inlet', {}, { host: '127.0.0.1' }).host).toBe('127.0.0.1');
    expect(serverSettings('.inlet', { INLET_HOST: '0.0.0.0' }, { host: '127.0.0.1' }).host).toBe('0.0.0.0');
  });

  it.each([
    ['INLET_PORT', '80000', 'a whole number from 0 to 65535'],
    ['INLET_MAX_UPLOAD_BYTES', '0', 'a whole number from 1 up'],
    ['INLET_RATE_LIMIT', '1.5', 'a whole number from 1 up'],
    ['INLET_WORKERS', '65', 'a whole number from 1 to 64'],
    ['INLET_SPOOL_MIN_FREE_MB', '-1', 'a whole number from 0 up'],
    ['INLET_SPOOL_RETENTION_HOURS', 'a week', 'a whole number from 0 up'],
    ['INLET_SPOOL_KEEP', '1e4', 'a whole number from 0 up'],
    ['INLET_NOTIFY_TOPIC_ARN', 'inlet-events', 'an SNS topic ARN'],
    ['INLET_SFTP_PORT', 'on', 'a TCP port from 0 to 65535, or "off"'],
    ['INLET_SFTP_PORT', '70000', 'a TCP port from 0 to 65535, or "off"'],
    ['INLET_SFTP_MAX_SESSIONS', '0', 'a whole number from 1 to 10000'],
    ['INLET_SFTP_IDLE_TIMEOUT_SECONDS', '1.5', 'a whole number from 1 to 86400'],
  ])('names %s and what it accepts when it is %j', (name, value, accepts) => {
    expect(() => serverSettings('.inlet', { [name]: value })).toThrow(`${name} must be ${accepts}`);
    expect(() => serverSettings('.inlet', { [name]: value })).toThrow(`got ${JSON.stringify(value)}.`);
  });
});

describe('spoolDirectory', () => {
  it('is INLET_SPOOL_DIR, else spool in the data directory, always absolute', () => {
    expect(spoolDirectory('.inlet', {})).toBe(path.resolve('.inlet/spool'));
    expect(spoolDirectory('.inlet', { INLET_SPOOL_DIR: '' })).toBe(path.resolve('.inlet/spool'));
    expect(spoolDirectory('.inlet', { INLET_SPOOL_DIR: 'spool-elsewhere' })).toBe(
      path.resolve('spool-elsewhere'),
    );
  });
});
