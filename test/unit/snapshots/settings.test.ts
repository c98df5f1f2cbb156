import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { snapshotEnvironmentFrom as snapshotEnvironment } from '../../../src/settings/snapshots.js';
import { parseSchedule } from '../../../src/snapshots/scheduler.js';
import { snapshotSettings } from '../../../src/snapshots/settings.js';
import { openTarget } from '../../../src/snapshots/target.js';

const config = (snapshots?: unknown) =>
  parseConfig(
    JSON.stringify({
      pipelines: [{ name: 'p', table: 't', infer: true }],
      ...(snapshots ? { snapshots } : {}),
    }),
    'test.yaml',
  );

describe('snapshotSettings', () => {
  it('defaults: archive into the data directory, hourly, the documented retention, not configured', () => {
    const s = snapshotSettings({ environment: {}, dataDir: '/var/lib/inlet', mode: 'serve', onEc2: false });
    expect(s).toEqual({
      provider: 'archive',
      target: 'file:///var/lib/inlet/snapshots',
      schedule: '0 * * * *',
      retention: { last: 24, daily: 7, weekly: 4, monthly: 6 },
      volumeId: undefined,
      configured: false,
      key: { base64: undefined, file: undefined },
      ebs: { region: undefined, metadataEndpoint: undefined },
    });
  });

  it('picks ebs on EC2 except under inlet dev, which uses the gateway bucket', () => {
    expect(
      snapshotSettings({ environment: {}, dataDir: '.inlet', mode: 'serve', onEc2: true }).provider,
    ).toBe('ebs');
    const dev = snapshotSettings({ environment: {}, dataDir: '.inlet', mode: 'dev', onEc2: true });
    expect(dev).toMatchObject({ provider: 'archive', target: 's3://inlet-snapshots/' });
  });

  it('lets the environment override the config, and off turn the scheduler off', () => {
    const c = config({ schedule: '15 3 * * *', retention: { last: 3 } });
    expect(
      snapshotSettings({ environment: {}, config: c, dataDir: '.', mode: 'serve', onEc2: false }),
    ).toMatchObject({
      schedule: '15 3 * * *',
      retention: { last: 3 },
      configured: true,
    });
    const environment = snapshotEnvironment({
      INLET_SNAPSHOT_SCHEDULE: '*/5 * * * *',
      INLET_SNAPSHOT_PROVIDER: 'ebs',
      INLET_SNAPSHOT_VOLUME_ID: 'vol-0123456789abcdef0',
    });
    expect(snapshotSettings({ environment, config: c, dataDir: '.', mode: 'serve' })).toMatchObject({
      provider: 'ebs',
      schedule: '*/5 * * * *',
      volumeId: 'vol-0123456789abcdef0',
    });
    expect(
      snapshotSettings({
        environment: snapshotEnvironment({ INLET_SNAPSHOT_SCHEDULE: 'off' }),
        dataDir: '.',
        mode: 'serve',
      }).schedule,
    ).toBeUndefined();
  });

  it('names the variable or key in every error', () => {
    expect(() => snapshotEnvironment({ INLET_SNAPSHOT_PROVIDER: 'zfs' })).toThrow(
      /INLET_SNAPSHOT_PROVIDER must be "archive" or "ebs", got "zfs"/,
    );
    expect(() => parseSchedule('61 * * * *', 'INLET_SNAPSHOT_SCHEDULE')).toThrow(
      /INLET_SNAPSHOT_SCHEDULE "61 \* \* \* \*" is not a cron expression/,
    );
    expect(() => parseSchedule('0 * * * * *', 'INLET_SNAPSHOT_SCHEDULE')).toThrow(/6 fields, not 5/);
    expect(() =>
      snapshotSettings({
        environment: {},
        config: config({ retention: { last: 0 } }),
        dataDir: '.',
        mode: 'cli',
        onEc2: false,
      }),
    ).toThrow(/keeps no snapshot at all/);
  });
});

describe('openTarget', () => {
  const s3 = () => ({ scheme: 's3' }) as never;

  it('splits s3 targets into bucket and prefix', () => {
    expect(openTarget('s3://backups', { s3 }).location).toMatchObject({
      bucket: 'backups',
      prefix: '',
      uri: 's3://backups/',
    });
    expect(openTarget('s3://backups/inlet/spool/', { s3 }).location).toMatchObject({
      bucket: 'backups',
      prefix: 'inlet/spool/',
    });
  });

  it('roots file targets at their directory, and takes plain paths too', () => {
    const file = openTarget('file:///srv/snapshots', { s3 }).location;
    expect(file).toMatchObject({ bucket: 'archive', prefix: '', uri: 'file:///srv/snapshots' });
    expect(openTarget('/srv/snapshots', { s3 }).location.uri).toBe('file:///srv/snapshots');
  });

  it('explains targets it cannot use', () => {
    expect(() => openTarget('file://relative/dir', { s3 })).toThrow(
      /INLET_SNAPSHOT_TARGET .* file:\/\/\/absolute\/dir/,
    );
    expect(() => openTarget('gs://bucket', { s3 })).toThrow(/scheme "gs:" is not supported/);
    expect(() => openTarget('s3://bucket/a/../b', { s3 })).toThrow(/"\." or "\.\." segment/);
  });
});
