import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, silentLogger } from '../observability/logger.js';
import { RequestAuthenticator } from './auth.js';
import { BucketStore } from './bucket-store.js';
import { S3Error } from './errors.js';
import {
  buildEventRecord,
  DEFAULT_RETRY,
  EventDispatcher,
  type RetryPolicy,
  type S3EventRecordLike,
  Sequencer,
} from './events.js';
import { EventOutbox } from './outbox.js';
import { parseTarget, type S3Request, sendError } from './request.js';
import { route } from './router.js';

export type { S3EventRecordLike } from './events.js';

export interface GatewayOptions {
  /** Objects live under `<dataDir>/<bucket>/...`. */
  dataDir: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** @default 'us-east-1' */
  region?: string;
  /** Created at start if missing. */
  buckets?: string[];
  /**
   * Called for every created object with an S3 event record shaped as AWS's, after the object is durable and in
   * creation order. Retried with backoff while it rejects (at-least-once), within bounded attempts and time.
   */
  onObjectCreated?: (record: S3EventRecordLike) => Promise<void>;
  /**
   * true: no event (replayed or new) is delivered until `gateway.deliverEvents()`, for a handler that cannot
   * act before it knows the gateway's endpoint. @default false: delivery starts once the gateway listens.
   */
  deferEvents?: boolean;
  logger?: Logger;
  /**
   * How rejected `onObjectCreated` calls are retried before the event goes to `.events/dead/`.
   * @default 200 ms doubling to 30 s between attempts, for up to an hour (see DEFAULT_RETRY)
   */
  eventRetry?: Partial<RetryPolicy>;
  /**
   * true: the dead letters of earlier runs go back to pending at start and are delivered again (`inlet dev`
   * sets it from INLET_S3_REPLAY_DEAD=1). Either way their count is logged at start. @default false
   */
  replayDead?: boolean;
}

export interface Gateway {
  readonly endpoint: string;
  readonly port: number;
  /** Starts delivering events, those the last run left undelivered first (see `deferEvents`). */
  deliverEvents(): void;
  /**
   * Stops accepting requests, then delivers what is queued without waiting to retry: an event whose handler
   * fails stays pending for the next start.
   */
  close(): Promise<void>;
}

/**
 * Queues again the events a previous run saved but did not deliver (it stopped or crashed first), ahead
 * of any new one; they are delivered once the dispatcher starts. An event whose object never committed,
 * or has been replaced since (the replacement has its own event), is dropped.
 */
async function replayOutbox(
  outbox: EventOutbox,
  storage: BucketStore,
  dispatcher: EventDispatcher,
  logger: Logger,
  replayDead: boolean,
): Promise<void> {
  const pending = await outbox.open({ replayDead });
  const dead = await outbox.deadLetters();
  if (dead.length > 0) {
    logger.warn(
      `${dead.length} event(s) in the dead letters were never delivered, so their objects are not loaded. To ` +
        'replay them, start again with INLET_S3_REPLAY_DEAD=1, or move the files from the dead folder to ' +
        `${outbox.pendingDirectory} and restart.`,
      { count: dead.length, dir: outbox.deadDirectory },
    );
  }
  for (const entry of pending) {
    let current: string | undefined;
    try {
      current = storage.head(entry.bucket, entry.key).etag;
    } catch {
      current = undefined;
    }
    if (current === entry.etag) {
      logger.info('replaying an event the last run did not deliver', {
        bucket: entry.bucket,
        key: entry.key,
      });
      dispatcher.enqueue(entry, Promise.resolve(), true);
    } else {
      await outbox.delivered(entry);
    }
  }
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const logger = (options.logger ?? silentLogger).child({ component: 'gateway' });
  const region = options.region ?? 'us-east-1';
  const host = options.host ?? '127.0.0.1';
  const principalId = `AWS:${options.credentials.accessKeyId}`;
  const sequencer = new Sequencer();
  const handler = options.onObjectCreated;
  const outbox = new EventOutbox(options.dataDir);
  const dispatcher =
    handler === undefined
      ? undefined
      : new EventDispatcher(handler, outbox, logger, { ...DEFAULT_RETRY, ...options.eventRetry });

  const storage = new BucketStore(options.dataDir, (bucket, meta, how, origin, durable) => {
    const record = buildEventRecord({
      bucket,
      meta,
      how,
      region,
      principalId,
      ...origin,
      sequencer: sequencer.next(),
    });
    return dispatcher?.enqueue({ bucket, key: meta.key, etag: meta.etag, record }, durable);
  });
  await storage.open(options.buckets ?? []);
  if (dispatcher !== undefined) {
    await replayOutbox(outbox, storage, dispatcher, logger, options.replayDead === true);
  }
  const authenticator = new RequestAuthenticator(options.credentials);

  const server = http.createServer((req, res) => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', requestId);
    res.setHeader('server', 'InletGateway');
    const ctx: S3Request = {
      req,
      res,
      method: req.method ?? 'GET',
      rawPath: (req.url ?? '/').split('?')[0] ?? '/',
      query: {},
      bucket: undefined,
      key: undefined,
      requestId,
    };
    handle(ctx).catch((err: unknown) => {
      const s3 =
        err instanceof S3Error
          ? err
          : new S3Error('InternalError', 'We encountered an internal error. Please try again.', {
              cause: err,
            });
      const level = s3.status >= 500 ? 'error' : 'debug';
      logger[level]('gateway request failed', {
        method: ctx.method,
        path: ctx.rawPath,
        code: s3.code,
        s3Code: s3.s3Code,
        err,
      });
      // Unread body bytes would otherwise be taken as the next request on this connection.
      if (!req.complete) {
        res.setHeader('connection', 'close');
        req.resume();
      }
      sendError(ctx, s3);
    });
  });

  async function handle(ctx: S3Request): Promise<void> {
    const target = parseTarget(ctx.req);
    Object.assign(ctx, {
      rawPath: target.rawPath,
      query: target.query,
      bucket: target.bucket,
      key: target.key,
    });
    const auth = await authenticator.verify(ctx.req, target.rawPath, target.query);
    await route(ctx, auth, { storage, region });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info('gateway listening', { endpoint, dataDir: options.dataDir });
  // Only now: a gateway that failed to listen (a busy port, then retried on another) must deliver nothing.
  if (options.deferEvents !== true) dispatcher?.start();

  return {
    endpoint,
    port,
    deliverEvents() {
      dispatcher?.start();
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await dispatcher?.stop();
    },
  };
}
