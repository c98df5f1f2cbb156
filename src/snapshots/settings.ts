/**
 * Snapshot settings from the environment and the config (docs/environment.md), each checked with an error that
 * names the variable or key, and the provider they describe.
 *
 * | variable | default |
 * |---|---|
 * | INLET_SNAPSHOT_PROVIDER | `ebs` on EC2 (except under `inlet dev`), else `archive` |
 * | INLET_SNAPSHOT_TARGET | `inlet dev`: the local gateway's `s3://inlet-snapshots`; else `file://$INLET_DATA_DIR/snapshots` |
 * | INLET_SNAPSHOT_KEY / INLET_SNAPSHOT_KEY_FILE | `inlet dev`: generated once into `$INLET_DATA_DIR`; else required (archive) |
 * | INLET_SNAPSHOT_SCHEDULE | `snapshots.schedule` in the config, else `0 * * * *`; `off` turns the scheduler off |
 * | INLET_SNAPSHOT_VOLUME_ID | found through the instance metadata (ebs) |
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import type { InletConfig } from '../model/contract.js';
import type { Logger } from '../observability/logger.js';
import { ArchiveProvider } from './archive/provider.js';
import { loadSnapshotKey } from './key.js';
import type { IntakeFreeze, SnapshotProvider, SnapshotProviderKind } from './provider.js';
import { DEFAULT_RETENTION, keepsNothing, type RetentionRules } from './retention.js';
import { DEFAULT_SCHEDULE, parseSchedule } from './scheduler.js';
import { openTarget, targetDirectory, targetScheme } from './target.js';

export type SnapshotMode = 'dev' | 'serve' | 'cli';

type Env = Readonly<Record<string, string | undefined>>;

/** The bucket `inlet dev`'s gateway creates for snapshots. */
export const DEV_SNAPSHOT_BUCKET = 'inlet-snapshots';

export interface SnapshotSettings {
  readonly provider: SnapshotProviderKind;
  /** Archive: where snapshots go; `s3://inlet-snapshots/` on the local gateway under `inlet dev`. */
  readonly target: string;
  /** undefined: the scheduler is off. */
  readonly schedule: string | undefined;
  readonly retention: RetentionRules;
  readonly volumeId: string | undefined;
  /** Something about snapshots was set (environment or config), so a missing key is an error, not a default. */
  readonly configured: boolean;
}

export interface SettingsOptions {
  readonly env?: Env;
  readonly config?: InletConfig | undefined;
  readonly dataDir: string;
  readonly mode: SnapshotMode;
  /** Overrides the EC2 detection (tests). */
  readonly onEc2?: boolean;
}

export function snapshotSettings(options: SettingsOptions): SnapshotSettings {
  const env = options.env ?? process.env;
  const value = (name: string) => env[name]?.trim() || undefined;
  const rawProvider = value('INLET_SNAPSHOT_PROVIDER');
  if (rawProvider !== undefined && rawProvider !== 'archive' && rawProvider !== 'ebs') {
    throw new ConfigError(
      'invalid_setting',
      `INLET_SNAPSHOT_PROVIDER must be "archive" or "ebs", got "${rawProvider}".`,
    );
  }
  const provider: SnapshotProviderKind =
    rawProvider ?? (options.mode !== 'dev' && (options.onEc2 ?? onEc2()) ? 'ebs' : 'archive');

  const scheduleEnv = value('INLET_SNAPSHOT_SCHEDULE');
  const scheduleConfig = options.config?.snapshots?.schedule;
  const schedule =
    scheduleEnv !== undefined
      ? parseSchedule(scheduleEnv, 'INLET_SNAPSHOT_SCHEDULE')
      : scheduleConfig !== undefined
        ? parseSchedule(scheduleConfig, 'snapshots.schedule in the config')
        : DEFAULT_SCHEDULE;

  const retention = options.config?.snapshots?.retention ?? DEFAULT_RETENTION;
  if (keepsNothing(retention)) {
    throw new ConfigError(
      'invalid_config',
      'snapshots.retention keeps no snapshot at all (every count is 0 or missing): prune would delete them all. ' +
        'Set at least one of last, daily, weekly, monthly.',
    );
  }

  const target =
    value('INLET_SNAPSHOT_TARGET') ??
    (options.mode === 'dev'
      ? `s3://${DEV_SNAPSHOT_BUCKET}/`
      : pathToFileURL(path.resolve(options.dataDir, 'snapshots')).href);

  return {
    provider,
    target,
    schedule,
    retention,
    volumeId: value('INLET_SNAPSHOT_VOLUME_ID'),
    configured:
      options.config?.snapshots !== undefined ||
      Object.keys(env).some((name) => name.startsWith('INLET_SNAPSHOT_') && value(name) !== undefined),
  };
}

export interface OpenProviderOptions {
  readonly env?: Env;
  readonly dataDir: string;
  readonly spoolDir: string;
  readonly mode: SnapshotMode;
  readonly logger?: Logger;
  /** `inlet dev`'s gateway: `s3://` targets use it unless INLET_S3_ENDPOINT points elsewhere. */
  readonly localS3?: {
    readonly endpoint: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
  readonly freeze?: IntakeFreeze;
}

export async function openProvider(
  settings: SnapshotSettings,
  options: OpenProviderOptions,
): Promise<SnapshotProvider> {
  const env = options.env ?? process.env;
  if (settings.provider === 'ebs') {
    // Loaded on demand: the EC2 client is large, and most hosts never need it.
    const { openEbsProvider } = await import('./ebs/open.js');
    return openEbsProvider({
      env,
      volumeId: settings.volumeId,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.freeze === undefined ? {} : { freeze: options.freeze }),
    });
  }
  const targetDir = targetDirectory(settings.target);
  const { key } = await loadSnapshotKey({
    env,
    dataDir: options.dataDir,
    generate: options.mode === 'dev',
    forbiddenDirs: [options.spoolDir, ...(targetDir === undefined ? [] : [targetDir])],
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const local = options.localS3;
  // The S3 SDK is slow to load: only for s3:// targets, the only ones openTarget asks for an S3 store.
  const s3 = targetScheme(settings.target) === 's3' ? await import('../storage/s3-store.js') : undefined;
  const opened = openTarget(settings.target, {
    s3: () => {
      if (s3 === undefined)
        throw new Error('openTarget asked for an S3 store for a target that is not s3://');
      return local !== undefined && !env.INLET_S3_ENDPOINT?.trim()
        ? new s3.S3ObjectStore({
            endpoint: local.endpoint,
            region: 'us-east-1',
            credentials: local.credentials,
            forcePathStyle: true,
          })
        : s3.s3StoreFromEnv(env);
    },
  });
  return new ArchiveProvider({
    location: opened.location,
    key,
    source: options.spoolDir,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    close: opened.close,
  });
}

/**
 * EC2 without a network call: Nitro instances name their vendor in DMI, Xen ones start their hypervisor
 * uuid with "ec2". Anything unreadable means "not EC2".
 */
export function onEc2(): boolean {
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      return '';
    }
  };
  return (
    read('/sys/class/dmi/id/sys_vendor') === 'Amazon EC2' ||
    read('/sys/hypervisor/uuid').toLowerCase().startsWith('ec2')
  );
}
