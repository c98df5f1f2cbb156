/**
 * The snapshot scheduler as `inlet serve` and `inlet dev` run it: settings, provider, run records in the
 * database, started and stopped as one.
 *
 * `inlet serve` on a host where nothing about snapshots was configured (no INLET_SNAPSHOT_* variable, no
 * `snapshots:` in the config) and no key exists starts without snapshots and says so, rather than refusing
 * to start a service that ran before; once anything is configured, a missing key is an error.
 */
import type pg from 'pg';
import { ConfigError } from '../errors.js';
import type { InletConfig } from '../model/contract.js';
import type { Logger } from '../observability/logger.js';
import type { SnapshotProvider } from './provider.js';
import { PgRunRecorder } from './runs.js';
import { SnapshotScheduler } from './scheduler.js';
import {
  type OpenProviderOptions,
  openProvider,
  type SnapshotEnvironment,
  type SnapshotSettings,
  snapshotSettings,
} from './settings.js';

export interface RunningSnapshots {
  readonly provider: SnapshotProvider;
  readonly scheduler: SnapshotScheduler;
  readonly settings: SnapshotSettings & { readonly schedule: string };
  stop(): Promise<void>;
}

export interface StartSnapshotsOptions extends Omit<OpenProviderOptions, 'mode'> {
  readonly mode: 'dev' | 'serve';
  readonly environment: SnapshotEnvironment;
  readonly config: InletConfig;
  readonly pool: pg.Pool;
  readonly logger: Logger;
}

/** The running scheduler, or undefined when snapshots are off (and the log says why). */
export async function startSnapshots(options: StartSnapshotsOptions): Promise<RunningSnapshots | undefined> {
  const settings = snapshotSettings({
    environment: options.environment,
    config: options.config,
    dataDir: options.dataDir,
    mode: options.mode,
  });
  const { schedule } = settings;
  if (schedule === undefined) {
    options.logger.info('snapshot scheduler off (INLET_SNAPSHOT_SCHEDULE=off)');
    return undefined;
  }
  let provider: SnapshotProvider;
  try {
    provider = await openProvider(settings, options);
  } catch (error) {
    if (
      options.mode === 'serve' &&
      !settings.configured &&
      error instanceof ConfigError &&
      error.code === 'snapshot_key_missing'
    ) {
      options.logger.warn(
        'snapshots are off: set INLET_SNAPSHOT_KEY (and INLET_SNAPSHOT_TARGET) to snapshot the spool on a schedule, ' +
          'or INLET_SNAPSHOT_SCHEDULE=off to say it on purpose',
      );
      return undefined;
    }
    throw error;
  }
  const scheduler = new SnapshotScheduler({
    provider,
    schedule,
    retention: settings.retention,
    recorder: new PgRunRecorder(options.pool),
    logger: options.logger,
  });
  scheduler.start();
  return {
    provider,
    scheduler,
    settings: { ...settings, schedule },
    stop: async () => {
      await scheduler.stop();
      provider.close();
    },
  };
}
