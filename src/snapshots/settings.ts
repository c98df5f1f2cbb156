/**
 * Snapshot settings from the environment (read by the process's settings module, src/settings/snapshots.ts)
 * and the config, each checked with an error that names the variable or key, and the provider they describe.
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
import type { S3ObjectStoreOptions } from '../storage/s3-store.js';
import { ArchiveProvider } from './archive/provider.js';
import { loadSnapshotKey } from './key.js';
import type { IntakeFreeze, SnapshotProvider, SnapshotProviderKind } from './provider.js';
import { DEFAULT_RETENTION, keepsNothing, type RetentionRules } from './retention.js';
import { DEFAULT_SCHEDULE, parseSchedule } from './scheduler.js';
import { openTarget, targetDirectory, targetScheme } from './target.js';

export type SnapshotMode = 'dev' | 'serve' | 'cli';

type S3Connection = Pick<S3ObjectStoreOptions, 'endpoint' | 'forcePathStyle' | 'region' | 'credentials'>;

/** The bucket `inlet dev`'s gateway creates for snapshots. */
export const DEV_SNAPSHOT_BUCKET = 'inlet-snapshots';

/** What the environment says about snapshots; unset fields take the defaults above. */
export interface SnapshotEnvironment {
  readonly provider?: SnapshotProviderKind | undefined;
  readonly target?: string | undefined;
  /** A cron expression or `off`, not yet checked. */
  readonly schedule?: string | undefined;
  readonly volumeId?: string | undefined;
  /** The archive key in base64 (INLET_SNAPSHOT_KEY). */
  readonly key?: string | undefined;
  /** A file holding it (INLET_SNAPSHOT_KEY_FILE). */
  readonly keyFile?: string | undefined;
  /** The EBS provider's region; unset: the instance's own. */
  readonly region?: string | undefined;
  /** The instance metadata endpoint; unset: the standard one. */
  readonly metadataEndpoint?: string | undefined;
}

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
  /** Where the archive key comes from, when the environment says. */
  readonly key: { readonly base64: string | undefined; readonly file: string | undefined };
  /** How the EBS provider reaches AWS. */
  readonly ebs: { readonly region: string | undefined; readonly metadataEndpoint: string | undefined };
}

export interface SettingsOptions {
  readonly environment: SnapshotEnvironment;
  readonly config?: InletConfig | undefined;
  readonly dataDir: string;
  readonly mode: SnapshotMode;
  /** Overrides the EC2 detection (tests). */
  readonly onEc2?: boolean;
}

export function snapshotSettings(options: SettingsOptions): SnapshotSettings {
  const { environment } = options;
  const provider: SnapshotProviderKind =
    environment.provider ?? (options.mode !== 'dev' && (options.onEc2 ?? onEc2()) ? 'ebs' : 'archive');

  const scheduleConfig = options.config?.snapshots?.schedule;
  const schedule =
    environment.schedule !== undefined
      ? parseSchedule(environment.schedule, 'INLET_SNAPSHOT_SCHEDULE')
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
    environment.target ??
    (options.mode === 'dev'
      ? `s3://${DEV_SNAPSHOT_BUCKET}/`
      : pathToFileURL(path.resolve(options.dataDir, 'snapshots')).href);

  const fromEnvironment = [
    environment.provider,
    environment.target,
    environment.schedule,
    environment.volumeId,
    environment.key,
    environment.keyFile,
  ];
  return {
    provider,
    target,
    schedule,
    retention,
    volumeId: environment.volumeId,
    configured:
      options.config?.snapshots !== undefined || fromEnvironment.some((value) => value !== undefined),
    key: { base64: environment.key, file: environment.keyFile },
    ebs: { region: environment.region, metadataEndpoint: environment.metadataEndpoint },
  };
}

export interface OpenProviderOptions {
  readonly dataDir: string;
  readonly spoolDir: string;
  readonly mode: SnapshotMode;
  readonly logger?: Logger;
  /**
   * How `s3://` targets connect (INLET_S3_ENDPOINT, INLET_S3_ACCESS_KEY_ID…), asked only for such a target, so
   * that a bad S3 setting does not stop a provider that does not use S3; unset: the AWS defaults.
   */
  readonly s3?: () => S3Connection;
  /** `inlet dev`'s gateway: `s3://` targets use it unless `s3` names an endpoint of its own. */
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
  if (settings.provider === 'ebs') {
    // Loaded on demand: the EC2 client is large, and most hosts never need it.
    const { openEbsProvider } = await import('./ebs/open.js');
    return openEbsProvider({
      region: settings.ebs.region,
      metadataEndpoint: settings.ebs.metadataEndpoint,
      volumeId: settings.volumeId,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.freeze === undefined ? {} : { freeze: options.freeze }),
    });
  }
  const targetDir = targetDirectory(settings.target);
  const { key } = await loadSnapshotKey({
    key: settings.key.base64,
    keyFile: settings.key.file,
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
      const connection = options.s3?.() ?? {};
      return local !== undefined && connection.endpoint === undefined
        ? new s3.S3ObjectStore({
            endpoint: local.endpoint,
            region: 'us-east-1',
            credentials: local.credentials,
            forcePathStyle: true,
          })
        : new s3.S3ObjectStore(connection);
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
