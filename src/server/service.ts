/**
 * The server shape as one unit: the spool on its volume, the worker pool draining it through the engine,
 * the upload API in front, and the retention sweep. `inlet serve` runs it on EC2; `inlet dev` runs it on
 * a laptop next to the embedded database and the S3 gateway.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type pg from 'pg';
import type { InletConfig } from '../model/contract.js';
import type { IngestResult } from '../model/ingestion.js';
import { type Logger, silentLogger } from '../observability/logger.js';
import type { Notifier } from '../observability/notify.js';
import { buildApp } from './app.js';
import {
  DEFAULT_MAX_UPLOAD_BYTES,
  DEFAULT_RATE_LIMIT,
  DEFAULT_RETENTION_COUNT,
  DEFAULT_RETENTION_MS,
  DEFAULT_WORKERS,
} from './defaults.js';
import { DrainHost } from './drain-host.js';
import { ServerMetrics } from './metrics.js';
import { QueuedLedger, type QueuedRows } from './queued-ledger.js';
import type { SftpDoor, SftpDoorOptions } from './sftp/door.js';
import { Spool, type SpoolEntry } from './spool.js';
import { recordSpoolVerdict, unreadableVerdict } from './spool-verdicts.js';
import { TokenCache } from './token-cache.js';
import { WorkerPool, type WorkerPoolOptions } from './worker.js';

export interface UploadServiceOptions {
  config: InletConfig;
  pool: pg.Pool;
  spoolDir: string;
  logger?: Logger;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  maxUploadBytes?: number;
  rateLimitPerMinute?: number;
  bootstrapToken?: string | undefined;
  workers?: number;
  /** Uploads get 503 when the spool volume has less free space than this. */
  minFreeBytes?: number;
  /** `done/` entries older than this are deleted; default 7 days. */
  retentionMs?: number;
  /** At most this many `done/` entries are kept; default 10,000. */
  retentionCount?: number;
  /** Time in-flight files get to finish at shutdown before they are handed back; default 30 s. */
  shutdownGraceMs?: number;
  worker?: Partial<
    Pick<WorkerPoolOptions, 'pollMs' | 'engineRetry' | 'maxAttempts' | 'backoffMs' | 'maxBackoffMs'>
  >;
  onFinished?: (entry: SpoolEntry, result: IngestResult) => void;
  /**
   * Where the workers run: `thread` (the default, what `inlet serve` runs), a worker thread of their own with
   * its own database connections, so that loads never take the time of the thread that answers uploads
   * (drain-host.ts); `inline`, the accepting thread, for tests that reach into the workers' pool.
   */
  drain?: 'thread' | 'inline';
  /** Told of every finished file (SNS on AWS: INLET_NOTIFY_TOPIC_ARN). */
  notifier?: Notifier | undefined;
  /** The SFTP door beside the API (src/server/sftp/); absent: off. Its host is the API's. */
  sftp?: Omit<SftpDoorOptions, 'host'> | undefined;
}

export interface UploadService {
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  readonly spool: Spool;
  readonly metrics: ServerMetrics;
  /** The SFTP door's port and host key fingerprint, when it is on. */
  readonly sftp: { readonly port: number; readonly fingerprint: string } | undefined;
  /** Stops accepting, lets in-flight files finish (or hands them back), then closes. */
  stop(): Promise<void>;
}

const RETENTION_SWEEP_MS = 10 * 60 * 1000;

/** The queued rows go to the drain thread, which writes them at its stop; nothing is left here to flush. */
function queuedIn(host: DrainHost): QueuedRows {
  return { add: (pipeline, file) => host.queue(pipeline, file), flush: async () => undefined };
}

export async function startUploadService(options: UploadServiceOptions): Promise<UploadService> {
  const logger = (options.logger ?? silentLogger).child({ component: 'server' });
  const inThread = (options.drain ?? 'thread') === 'thread';
  let drainHost: DrainHost | undefined;
  const spool = new Spool(options.spoolDir, {
    logger,
    recordUnreadable: (id, error) =>
      recordSpoolVerdict(options.pool, unreadableVerdict(path.resolve(options.spoolDir), id, error)),
    ...(options.minFreeBytes === undefined ? {} : { minFreeBytes: options.minFreeBytes }),
    ...(inThread ? { handOff: (id, sidecar, content) => drainHost?.handOff(id, sidecar, content) } : {}),
  });
  // The drain thread reads processing/ itself when it starts (and again whenever it is started anew).
  let resumed: SpoolEntry[] | undefined;
  if (inThread) await spool.prepare();
  else resumed = await spool.open();
  const metrics = new ServerMetrics({ spoolDepth: () => spool.depth() });
  const onFinished = (entry: SpoolEntry, result: IngestResult) => {
    void options.notifier?.ingestionFinished(result);
    options.onFinished?.(entry, result);
  };
  const concurrency = options.workers ?? DEFAULT_WORKERS;
  let workers: { start(): Promise<void>; notify(): void; stop(graceMs: number): Promise<void> };
  if (inThread) {
    // The thread hands back what is in processing/ itself: it does so again each time it is started anew.
    drainHost = new DrainHost({
      spoolDir: spool.dir,
      config: options.config,
      pool: options.pool,
      logger,
      metrics,
      workers: { concurrency, ...options.worker },
      onFinished,
    });
    const drain = drainHost;
    // A published file wakes the thread with its hand-off.
    workers = { start: () => drain.start(), notify: () => undefined, stop: (ms) => drain.stop(ms) };
  } else {
    const pool = new WorkerPool({
      spool,
      config: options.config,
      pool: options.pool,
      logger,
      metrics,
      concurrency,
      ...options.worker,
      onFinished,
    });
    workers = {
      start: () => pool.start(resumed ?? []),
      notify: () => pool.notify(),
      stop: (ms) => pool.stop(ms),
    };
  }
  // Where every door's accepted files are recorded as queued: the drain thread's writer when it has one, so
  // the accepting thread spends no round trips on them; the app flushes it when it closes.
  const queued: QueuedRows =
    drainHost === undefined ? new QueuedLedger(options.pool, logger) : queuedIn(drainHost);
  let accepting = true;
  // Its own connection, beside the pool: it holds LISTEN for as long as the service runs.
  const tokenCache = new TokenCache((options.pool as pg.Pool & { options: pg.ClientConfig }).options, {
    logger,
  });
  const app = await buildApp({
    tokenCache,
    spool,
    config: options.config,
    pool: options.pool,
    logger,
    metrics,
    maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    rateLimitPerMinute: options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT,
    bootstrapToken: options.bootstrapToken,
    onAccepted: () => workers.notify(),
    queued,
    isAccepting: () => accepting,
  });
  await workers.start();
  const sweep = () =>
    spool
      .prune({
        maxAgeMs: options.retentionMs ?? DEFAULT_RETENTION_MS,
        keepCount: options.retentionCount ?? DEFAULT_RETENTION_COUNT,
      })
      .catch((error: unknown) => logger.warn('could not prune the spool', { error }));
  await sweep();
  const sweeper = setInterval(sweep, RETENTION_SWEEP_MS);
  sweeper.unref();

  try {
    await tokenCache.start();
    await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  } catch (error) {
    clearInterval(sweeper);
    await workers.stop(0);
    await tokenCache.stop();
    throw error;
  }
  let sftp: SftpDoor | undefined;
  if (options.sftp !== undefined) {
    try {
      // ssh2 loads only when the door is on.
      const { startSftpDoor } = await import('./sftp/door.js');
      sftp = await startSftpDoor(
        { ...options.sftp, host: options.host ?? '127.0.0.1' },
        {
          spool,
          config: options.config,
          pool: options.pool,
          logger,
          queued,
          maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
          onAccepted: (bytes) => {
            metrics.upload('accepted', bytes);
            workers.notify();
          },
          onFailedSignIn: () => metrics.sftpFailedSignIn(),
        },
      );
    } catch (error) {
      clearInterval(sweeper);
      await app.close();
      await workers.stop(0);
      await tokenCache.stop();
      throw error;
    }
  }
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info('upload service listening', {
    url,
    spool: spool.dir,
    ...(resumed === undefined ? {} : { resumed: resumed.length }),
  });

  let stopping: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    spool,
    metrics,
    sftp: sftp === undefined ? undefined : { port: sftp.port, fingerprint: sftp.fingerprint },
    stop: () => {
      stopping ??= (async () => {
        accepting = false;
        clearInterval(sweeper);
        // Files still being written over SFTP are dropped unacknowledged; closed ones are already queued.
        await sftp?.stop();
        // close() refuses new requests with 503 and waits for uploads already streaming to finish; a client
        // that stalls mid-upload gets cut off after the grace period, before its file was acknowledged.
        const graceMs = options.shutdownGraceMs ?? 30_000;
        const closed = app.close();
        const grace = setTimeout(() => app.server.closeAllConnections(), graceMs);
        // The workers get the same grace period, counted from now, not from when the HTTP side has closed:
        // closing flushes the queued ledger rows, and a row whose file a worker is loading waits for that
        // worker's transaction, so a load stuck on a lock would otherwise hold the whole shutdown.
        await Promise.all([closed.finally(() => clearTimeout(grace)), workers.stop(graceMs)]);
        await tokenCache.stop();
        logger.info('upload service stopped');
      })();
      return stopping;
    },
  };
}
