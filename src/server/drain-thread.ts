/**
 * The drain thread: the upload service's workers (worker.ts) running beside the thread that accepts uploads,
 * so that the engine's work never takes the accepting thread's time while clients wait for their 202s.
 * Started by drain-host.ts, which hands it each published file and relays what it reports (logs, metrics,
 * finished files) to the accepting side.
 *
 * It claims from the spool as the workers always have (the rename into `processing/` is the lock), with its
 * own database pool. At start it hands back whatever is in `processing/`: only this thread claims, so an
 * entry there was claimed by a drain thread that is gone (a crashed process, or a thread that died and was
 * started again), and the engine's ledger makes loading it again harmless.
 */
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { redactSecrets } from '../db/errors.js';
import type { IngestResult } from '../model/ingestion.js';
import { type Logger, type LogLevel, levelWritten } from '../observability/logger.js';
import type { DrainThreadData, HostMessage, ThreadMessage } from './drain-protocol.js';
import { loggableFields } from './drain-protocol.js';
import { QueuedLedger } from './queued-ledger.js';
import { Spool, type SpoolEntry } from './spool.js';
import { recordSpoolVerdict, unreadableVerdict } from './spool-verdicts.js';
import { WorkerPool } from './worker.js';

if (parentPort === null) throw new Error('drain-thread.ts runs as a worker thread, started by drain-host.ts');
const port = parentPort;
const data = workerData as DrainThreadData;
/** Messages go in batches, one per turn of the event loop: a burst of files costs the other side few wakings. */
let outbox: ThreadMessage[] = [];
function send(message: ThreadMessage): void {
  outbox.push(message);
  if (outbox.length === 1) setImmediate(flushOutbox);
}
function flushOutbox(): void {
  const batch = outbox;
  outbox = [];
  port.postMessage(batch);
}

/** Log lines go to the accepting thread's logger; below its level they are not sent at all. */
function relayLogger(base: Record<string, unknown>): Logger {
  const emit = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>) => {
    if (!levelWritten(level, data.logLevel)) return;
    send({ type: 'log', level, message, fields: loggableFields({ ...base, ...fields }) });
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => relayLogger({ ...base, ...fields }),
    level: data.logLevel,
  };
}

const passwords = new Map<number, { resolve: (password: string) => void; reject: (error: Error) => void }>();
let nextRequest = 0;
/** The pool's password function lives in the accepting thread (a rotated secret): asked there per connection. */
function askPassword(): Promise<string> {
  const request = ++nextRequest;
  return new Promise((resolve, reject) => {
    passwords.set(request, { resolve, reject });
    send({ type: 'password', request });
  });
}

const logger = relayLogger({});
const pool = new pg.Pool({ ...data.pool, ...(data.passwordFromHost ? { password: askPassword } : {}) });
// As createPool does: an idle connection that drops is replaced, not a crash of the thread.
pool.on('error', (error) =>
  logger.warn('an idle PostgreSQL connection was closed; it will be replaced', {
    error: redactSecrets(error.message),
  }),
);
const spoolDir = path.resolve(data.spoolDir);
const spool = new Spool(spoolDir, {
  logger,
  recordUnreadable: (id, error) => recordSpoolVerdict(pool, unreadableVerdict(spoolDir, id, error)),
});
const workers = new WorkerPool({
  spool,
  config: data.config,
  pool,
  logger,
  ...data.workers,
  metrics: {
    workerStarted: () => send({ type: 'worker-started' }),
    workerStopped: () => send({ type: 'worker-stopped' }),
    ingested: (result: IngestResult, receivedAt: Date) => send({ type: 'ingested', result, receivedAt }),
  },
  onFinished: (entry: SpoolEntry, result: IngestResult) =>
    send({
      type: 'finished',
      entry: {
        id: entry.id,
        name: entry.name,
        size: entry.size,
        sha256: entry.sha256,
        receivedAt: entry.receivedAt,
        path: entry.path,
        meta: { ...entry.meta },
      },
      result,
    }),
});

const queued = new QueuedLedger(pool, logger);

port.on('message', (messages: HostMessage[]) => {
  for (const message of messages) receive(message);
});

function receive(message: HostMessage): void {
  switch (message.type) {
    case 'published':
      spool.adopt(message.id, message.sidecar, message.content);
      workers.notify();
      return;
    case 'queued': {
      const pipeline = data.config.pipelines.find((p) => p.name === message.pipeline);
      if (pipeline !== undefined) queued.add(pipeline, message.file);
      return;
    }
    case 'password-reply': {
      const waiting = passwords.get(message.request);
      passwords.delete(message.request);
      if (message.password !== undefined) waiting?.resolve(message.password);
      else waiting?.reject(new Error(message.error ?? 'no password'));
      return;
    }
    case 'stop':
      void stop(message.graceMs);
      return;
  }
}

let started: Promise<void> | undefined;
async function stop(graceMs: number): Promise<void> {
  await started?.catch(() => undefined);
  // Side by side: a queued row whose file a worker is loading waits for that worker's transaction.
  await Promise.all([queued.flush(), workers.stop(graceMs)]);
  await pool.end().catch(() => undefined);
  send({ type: 'stopped' });
  flushOutbox();
  port.close();
}

started = (async () => {
  await workers.start(await spool.resumable());
  send({ type: 'ready' });
})();
await started;
