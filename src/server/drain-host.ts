/**
 * The accepting side of the drain thread (drain-thread.ts): starts it, hands it each published file, relays
 * its logs, metrics and finished files, and starts it again when it dies.
 *
 * Why a thread: the accepting thread's time is what a client waits on between its last byte and its 202, and
 * while uploads arrived the workers' loads took about a fifth of it. In a thread of their own they run on the
 * other core (or beside PostgreSQL on it) instead.
 *
 * What a thread that dies leaves: the entries it had claimed, in `processing/`, and transactions its
 * connections held, which PostgreSQL rolls back as the connections close. The next thread hands those entries
 * back to `incoming/` before it claims anything, and the engine's ledger answers for any it had committed, so
 * an acknowledged file is loaded once whatever the thread was doing. Restarts wait a little longer each time
 * the thread dies early (a fault that recurs at every start), up to MAX_RESTART_DELAY_MS.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import type { InletConfig, Pipeline } from '../model/contract.js';
import type { IngestResult } from '../model/ingestion.js';
import type { Logger } from '../observability/logger.js';
import {
  type DrainThreadData,
  type DrainWorkerSettings,
  type HostMessage,
  poolSettings,
  type ThreadMessage,
} from './drain-protocol.js';
import type { QueuedFile } from './queued-ledger.js';
import type { SpoolEntry } from './spool.js';
import type { Sidecar } from './spool-format.js';
import type { WorkerMetrics } from './worker.js';

export interface DrainHostOptions {
  spoolDir: string;
  config: InletConfig;
  /** The accepting side's pool: the thread opens its own with the same settings, `workers + 1` connections. */
  pool: pg.Pool;
  logger: Logger;
  metrics: WorkerMetrics;
  workers: DrainWorkerSettings & { concurrency: number };
  onFinished: (entry: SpoolEntry, result: IngestResult) => void;
}

/** How long a thread must have run for its death to count as unrelated to the one before. */
const HEALTHY_RUN_MS = 60_000;
const FIRST_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 30_000;
/** After the workers' grace period, how long a stopping thread gets to close its pool before it is ended. */
const STOP_MARGIN_MS = 10_000;

/**
 * The thread's module: compiled JavaScript beside this file (dist/, and the CLI bundle, whose URLs point into
 * dist/), or, when this file runs as TypeScript (tsx, Vitest), the TypeScript source through tsx's loader,
 * which a worker thread must register itself (Node 20 applies no parent's loader to a worker's entry).
 */
function threadEntry(): { entry: string | URL; eval: boolean } {
  const js = new URL('./drain-thread.js', import.meta.url);
  const ts = new URL('./drain-thread.ts', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return { entry: js, eval: false };
  const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
  const tsx = pathToFileURL(fileURLToPath(new URL('dist/esm/api/index.mjs', pathToFileURL(tsxPackage))));
  return {
    entry: `import(${JSON.stringify(tsx.href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(ts.href)}); });`,
    eval: true,
  };
}

export class DrainHost {
  private thread: Worker | undefined;
  private stopping = false;
  private restartDelay = FIRST_RESTART_DELAY_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Loads the thread reported started and not stopped: a thread that dies mid-load reports neither. */
  private loading = 0;
  private outbox: HostMessage[] = [];
  private exited: Promise<void> = Promise.resolve();
  private readonly logger: Logger;

  constructor(private readonly options: DrainHostOptions) {
    this.logger = options.logger.child({ component: 'drain' });
  }

  /** Starts the thread; resolves once it has handed back what was in `processing/` and its workers run. */
  async start(): Promise<void> {
    try {
      await this.launch();
    } catch (error) {
      // Not started at all: nothing to start again.
      this.stopping = true;
      clearTimeout(this.restartTimer);
      throw error;
    }
  }

  /** A file was published: the thread takes its sidecar and bytes from this rather than from the disk. */
  handOff(id: string, sidecar: Sidecar, content: Uint8Array | undefined): void {
    this.post({ type: 'published', id, sidecar, content });
  }

  /**
   * Gives the files in progress `graceMs` to finish (then they are handed back, as WorkerPool.stop does), and
   * resolves once the thread has ended.
   */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const thread = this.thread;
    if (thread === undefined) return;
    const ended = this.exited;
    this.post({ type: 'stop', graceMs });
    const force = setTimeout(() => void thread.terminate(), graceMs + STOP_MARGIN_MS);
    try {
      await ended;
    } finally {
      clearTimeout(force);
    }
  }

  /**
   * Ends the thread at once, as a fatal error in it would, whatever it is doing; like any thread that dies, it
   * is started again and resumes the files it had claimed. For tests of exactly that.
   */
  async terminate(): Promise<void> {
    await this.thread?.terminate();
  }

  /** The queued ledger row of an accepted upload: the thread writes it, in batches, with its own connections. */
  queue(pipeline: Pipeline, file: QueuedFile): void {
    const { id, name, sha256, size, receivedAt, meta } = file;
    this.post({
      type: 'queued',
      pipeline: pipeline.name,
      file: { id, name, sha256, size, receivedAt, meta: { ...meta } },
    });
  }

  /** Messages go in batches, one per turn of the event loop: a burst of uploads wakes the thread a few times. */
  private post(message: HostMessage): void {
    this.outbox.push(message);
    if (this.outbox.length === 1) setImmediate(() => this.flushOutbox());
  }

  private flushOutbox(): void {
    const batch = this.outbox;
    this.outbox = [];
    // A thread that died meanwhile misses them: the next one reads the files from disk, and the queued rows
    // are a convenience the workers' own rows replace.
    if (batch.length > 0) this.thread?.postMessage(batch);
  }

  private launch(): Promise<void> {
    const { options } = this;
    const { settings, passwordFromHost } = poolSettings(options.pool);
    const workerData: DrainThreadData = {
      spoolDir: options.spoolDir,
      config: options.config,
      // A connection per worker, one for final verdicts and hand-backs, one for the queued rows.
      pool: { ...settings, max: options.workers.concurrency + 2 },
      passwordFromHost,
      workers: options.workers,
      logLevel: options.logger.level ?? 'debug',
    };
    const { entry, eval: isEval } = threadEntry();
    const thread = new Worker(entry, { eval: isEval, workerData });
    this.thread = thread;
    const startedAt = Date.now();
    let ready: () => void = () => undefined;
    let failed: (error: Error) => void = () => undefined;
    const readied = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    let lastError: Error | undefined;
    thread.on('message', (messages: ThreadMessage[]) => {
      for (const message of messages) {
        if (message.type === 'ready') ready();
        else this.receive(message);
      }
    });
    thread.on('error', (error) => {
      lastError = error;
      this.logger.error('the drain thread failed', { error });
    });
    this.exited = new Promise<void>((resolve) => {
      thread.once('exit', (code) => {
        if (this.thread === thread) this.thread = undefined;
        for (; this.loading > 0; this.loading--) this.options.metrics.workerStopped();
        failed(lastError ?? new Error(`the drain thread exited with code ${code} before it was ready`));
        resolve();
        if (this.stopping) return;
        this.logger.error('the drain thread ended; starting another, which resumes its files', {
          code,
          error: lastError,
        });
        this.restartDelay =
          Date.now() - startedAt > HEALTHY_RUN_MS
            ? FIRST_RESTART_DELAY_MS
            : Math.min(MAX_RESTART_DELAY_MS, this.restartDelay * 2);
        this.restartTimer = setTimeout(() => {
          if (this.stopping) return;
          this.launch().catch((error: unknown) =>
            this.logger.error('the drain thread could not start again', { error }),
          );
        }, this.restartDelay);
      });
    });
    return readied;
  }

  private receive(message: ThreadMessage): void {
    const { metrics } = this.options;
    switch (message.type) {
      case 'log':
        this.options.logger[message.level](message.message, message.fields);
        return;
      case 'worker-started':
        this.loading++;
        metrics.workerStarted();
        return;
      case 'worker-stopped':
        this.loading--;
        metrics.workerStopped();
        return;
      case 'ingested':
        metrics.ingested(message.result, message.receivedAt);
        return;
      case 'finished':
        this.options.onFinished(Object.freeze({ ...message.entry }), message.result);
        return;
      case 'password':
        void this.password(message.request);
        return;
      case 'stopped':
      case 'ready':
        return;
    }
  }

  private async password(request: number): Promise<void> {
    const options = (this.options.pool as pg.Pool & { options: pg.PoolConfig }).options;
    try {
      const read = options.password;
      const password = typeof read === 'function' ? await read() : (read ?? '');
      this.post({ type: 'password-reply', request, password });
    } catch (error) {
      this.post({ type: 'password-reply', request, error: (error as Error).message });
    }
  }
}
