import type pg from 'pg';
import { loadConfig } from '../../config/load.js';
import { listenWithFallback } from '../../local/ports.js';
import type { InletConfig } from '../../model/contract.js';
import type { Logger } from '../../observability/logger.js';
import { notifierFor } from '../../observability/notify.js';
import type { UploadService } from '../../server/service.js';
import { type ServerSettings, serverSettings } from '../../server/settings.js';
import { type Database, openDatabase } from '../database.js';
import { cliLogger, note, print } from '../output.js';
import { dataDir as dataDirectory, namedConfig, s3Connection, snapshotEnvironment } from '../settings.js';
import { listenForStop } from '../signals.js';

interface ServeOptions {
  config?: string;
  databaseUrl?: string;
}

export const DEFAULT_API_PORT = 8080;

export async function runServe(options: ServeOptions): Promise<number> {
  const logger = cliLogger('info');
  const stop = listenForStop();
  const dataDir = dataDirectory();
  const settings = serverSettings(dataDir);
  // Read before anything starts, so that a bad value stops the command with nothing to undo.
  const snapshotEnv = snapshotEnvironment();
  const config = await loadConfig(namedConfig(options.config));
  const db = await openServerDatabase(options.databaseUrl, logger, settings);
  try {
    const service = await startConfiguredService({
      config,
      pool: db.pool,
      logger,
      settings,
      fallback: false,
    });
    await print(`Inlet upload service on ${service.url} (spool ${service.spool.dir})`);
    if (service.sftp !== undefined) await print(sftpLine(service.sftp, settings.host));
    const { startSnapshots } = await import('../../snapshots/service.js');
    const snapshots = await startSnapshots({
      mode: 'serve',
      environment: snapshotEnv,
      config,
      pool: db.pool,
      logger,
      dataDir,
      spoolDir: service.spool.dir,
      s3: () => s3Connection(),
    }).catch(async (error: unknown) => {
      await service.stop();
      throw error;
    });
    if (snapshots !== undefined) {
      const { provider, settings: s } = snapshots;
      await print(`Snapshots: ${provider.kind} to ${provider.target}, schedule "${s.schedule}"`);
    }
    const signal = await stop.requested;
    note(`${signal}: stopping; loads in progress get 30 s to finish (send it again to force)`);
    await snapshots?.stop();
    await service.stop();
  } finally {
    stop.dispose();
    await db.close();
  }
  return 0;
}

/** Where partners connect, and the fingerprint they pin on their first connection. */
export function sftpLine(sftp: { port: number; fingerprint: string }, host: string): string {
  return `SFTP door on ${host}:${sftp.port}, host key ED25519 ${sftp.fingerprint} (partners: inlet sftp-users add)`;
}

/** One connection per worker, plus room for the API's token checks, ledger rows and status reads. */
export function poolSizeFor(settings: ServerSettings): number {
  return settings.workers + 4;
}

/** The database a server runs on, migrated, with a pool sized for its workers. */
export function openServerDatabase(
  databaseUrl: string | undefined,
  logger: Logger,
  settings: ServerSettings,
): Promise<Database> {
  return openDatabase({ databaseUrl, logger, migrate: true, poolMax: poolSizeFor(settings) });
}

/** The service with these settings; `fallback` takes a free port when the default is busy. */
export async function startConfiguredService(options: {
  config: InletConfig;
  pool: pg.Pool;
  logger: Logger;
  settings: ServerSettings;
  fallback: boolean;
}): Promise<UploadService> {
  const { settings } = options;
  // The service's modules (Fastify and the rest) load here, not for every command's --help.
  const { startUploadService } = await import('../../server/service.js');
  const start = (port: number) =>
    startUploadService({
      config: options.config,
      pool: options.pool,
      logger: options.logger,
      spoolDir: settings.spoolDir,
      port,
      host: settings.host,
      maxUploadBytes: settings.maxUploadBytes,
      rateLimitPerMinute: settings.rateLimitPerMinute,
      bootstrapToken: settings.bootstrapToken,
      workers: settings.workers,
      minFreeBytes: settings.minFreeBytes,
      retentionMs: settings.retentionMs,
      retentionCount: settings.retentionCount,
      notifier: notifierFor(settings.notifyTopicArn, options.logger),
      sftp:
        settings.sftp.port === false
          ? undefined
          : {
              port: settings.sftp.port,
              hostKeyFile: settings.sftp.hostKeyFile,
              maxSessionsPerUser: settings.sftp.maxSessionsPerUser,
              idleTimeoutMs: settings.sftp.idleTimeoutMs,
              fallback: options.fallback,
            },
    });
  return listenWithFallback(start, {
    port: settings.port,
    variable: 'INLET_PORT',
    defaultPort: DEFAULT_API_PORT,
    what: 'the upload API',
    logger: options.logger,
    fallback: options.fallback,
  });
}
