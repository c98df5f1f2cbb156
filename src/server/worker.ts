/**
 * The worker pool that drains the spool through the engine. Each worker claims the oldest entry (the
 * claim is a rename, so workers and restarts never share one), ingests it with the spool id as the
 * ingestion id, and moves it to `done/` or `failed/`. Exactly-once comes from the engine's ledger: an
 * entry resumed after a crash that had in fact committed ends as a duplicate of itself, not twice.
 */
import type pg from 'pg';
import { findPipeline } from '../config/route.js';
import { ingest, type RetryPolicy } from '../engine/ingest.js';
import { batchable, ingestBatch, MAX_BATCH_FILES } from '../engine/ingest-batch.js';
import type { ErrorCode } from '../error-codes/index.js';
import type { InletConfig, Pipeline } from '../model/contract.js';
import type { IngestResult } from '../model/ingestion.js';
import { type Logger, silentLogger } from '../observability/logger.js';
import { emfRecord, type ServerMetrics } from './metrics.js';
import type { Spool, SpoolEntry } from './spool.js';
import { noPipelineVerdict, recordSpoolVerdict, type SpoolVerdict } from './spool-verdicts.js';
import { uploadSource } from './upload-source.js';

export interface WorkerPoolOptions {
  spool: Spool;
  config: InletConfig;
  pool: pg.Pool;
  logger?: Logger;
  metrics?: WorkerMetrics;
  /** Files ingested at once; each holds one database connection while it runs. Default 2. */
  concurrency?: number;
  /**
   * The most small files of one append pipeline a worker loads in one transaction when the queue is deep
   * (ingest-batch.ts); 1 loads every file alone. Default 32.
   */
  batchFiles?: number;
  /** How often an idle worker looks at the spool when nothing woke it; default 1 s. */
  pollMs?: number;
  /** The engine's own retry of a lost connection within one attempt. */
  engineRetry?: RetryPolicy;
  /** Attempts for a file that failed for a reason other than the database being unavailable; default 3. */
  maxAttempts?: number;
  /** Delay before a failed file is tried again: doubles per attempt up to `maxBackoffMs`. Defaults 2 s, 60 s. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Called after every finished file (tests and live views). */
  onFinished?: (entry: SpoolEntry, result: IngestResult) => void;
}

/** What the workers count: ServerMetrics, or in a drain thread, its relay to the accepting thread's. */
export type WorkerMetrics = Pick<ServerMetrics, 'workerStarted' | 'workerStopped' | 'ingested'>;

/** Files larger than this are loaded alone: a batch is for files whose transaction costs more than their rows. */
const MAX_BATCHED_FILE_BYTES = 256 * 1024;

/** Failures that say "the database is not there right now": retried for as long as it takes. */
const UNAVAILABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'db_unreachable',
  'db_connection_lost',
  'db_shutdown',
  'db_starting',
  'db_too_many_connections',
]);

interface Retry {
  attempts: number;
  notBefore: number;
}

export class WorkerPool {
  private readonly options: Required<
    Pick<
      WorkerPoolOptions,
      'concurrency' | 'batchFiles' | 'pollMs' | 'maxAttempts' | 'backoffMs' | 'maxBackoffMs'
    >
  > &
    WorkerPoolOptions;
  private readonly logger: Logger;
  private readonly retries = new Map<string, Retry>();
  private readonly inFlight = new Map<string, AbortController>();
  private readonly loops: Promise<void>[] = [];
  private wake: (() => void) | undefined;
  private wakeSignal: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(options: WorkerPoolOptions) {
    this.options = {
      concurrency: 2,
      batchFiles: MAX_BATCH_FILES,
      pollMs: 1000,
      maxAttempts: 3,
      backoffMs: 2000,
      maxBackoffMs: 60_000,
      ...options,
    };
    this.logger = (options.logger ?? silentLogger).child({ component: 'worker' });
    this.resetWake();
  }

  /** Starts the workers. Entries a previous process left in `processing/` go back to the queue first. */
  async start(resumed: readonly SpoolEntry[] = []): Promise<void> {
    for (const entry of resumed) await this.options.spool.release(entry);
    for (let i = 0; i < this.options.concurrency; i++) this.loops.push(this.loop(i));
  }

  /** A new file is in the spool: an idle worker takes it now rather than at its next poll. */
  notify(): void {
    this.wake?.();
  }

  get busy(): number {
    return this.inFlight.size;
  }

  /**
   * Stops claiming, gives the files in progress `graceMs` to finish, then aborts them and hands them
   * back to `incoming/` (the next start resumes them). Resolves when every worker has returned.
   */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopping = true;
    this.notify();
    const finished = Promise.all(this.loops);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    if ((await Promise.race([finished, timedOut])) === 'timeout') {
      this.logger.warn('files still loading at shutdown are handed back to the spool', {
        count: this.inFlight.size,
      });
      for (const controller of this.inFlight.values()) controller.abort(new Error('the server is stopping'));
      await finished;
    }
    clearTimeout(timer);
  }

  private resetWake(): void {
    this.wakeSignal = new Promise<void>((resolve) => {
      this.wake = () => {
        resolve();
        this.resetWake();
      };
    });
  }

  private async loop(worker: number): Promise<void> {
    while (!this.stopping) {
      let entries: SpoolEntry[] = [];
      try {
        const now = Date.now();
        // A deep queue is shared out in batches, a worker taking at most its share of it; one file waiting is
        // taken alone, at once.
        entries = await this.options.spool.claimMany(Math.max(1, this.options.batchFiles), {
          skip: (id) => (this.retries.get(id)?.notBefore ?? 0) > now,
          share: this.options.concurrency,
        });
      } catch (error) {
        this.logger.error('could not claim from the spool', { worker, error });
      }
      if (entries.length === 0) {
        await this.idle();
        continue;
      }
      await this.processClaimed(entries);
    }
  }

  /** Small files of one batchable pipeline together, in claim order; every other file alone. */
  private async processClaimed(entries: readonly SpoolEntry[]): Promise<void> {
    const batches = new Map<Pipeline, SpoolEntry[]>();
    const alone: SpoolEntry[] = [];
    for (const entry of entries) {
      const pipeline = this.pipelineFor(entry);
      if (pipeline === undefined || !batchable(pipeline) || entry.size > MAX_BATCHED_FILE_BYTES) {
        alone.push(entry);
        continue;
      }
      const batch = batches.get(pipeline) ?? [];
      batch.push(entry);
      batches.set(pipeline, batch);
    }
    for (const [pipeline, batch] of batches) {
      if (batch.length === 1) alone.push(...batch);
      else await this.processBatch(pipeline, batch);
    }
    for (const entry of alone) await this.process(entry);
  }

  /** One transaction for the batch (ingest-batch.ts); each file then ends as it would alone. */
  private async processBatch(pipeline: Pipeline, entries: readonly SpoolEntry[]): Promise<void> {
    const { metrics } = this.options;
    const controller = new AbortController();
    for (const entry of entries) this.inFlight.set(entry.id, controller);
    metrics?.workerStarted();
    let results: IngestResult[] | undefined;
    try {
      results = await ingestBatch(
        entries.map((entry) => ({ source: uploadSource(entry), ingestionId: entry.id })),
        pipeline,
        {
          pool: this.options.pool,
          logger: this.logger,
          signal: controller.signal,
          ...(this.options.engineRetry ? { retry: this.options.engineRetry } : {}),
        },
      );
    } catch (error) {
      // Only a stop aborts a batch from outside; anything else is each file's result.
      if (!controller.signal.aborted) this.logger.error('a batch of files failed', { error });
    } finally {
      for (const entry of entries) this.inFlight.delete(entry.id);
      metrics?.workerStopped();
    }
    for (const [i, entry] of entries.entries()) {
      const result = results?.[i];
      if (result === undefined || controller.signal.aborted) {
        await this.handBack(entry, 'the server stopped while loading it');
        continue;
      }
      await this.conclude(entry, result);
    }
  }

  private async idle(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.wakeSignal,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.pollMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private async process(entry: SpoolEntry): Promise<void> {
    const { metrics } = this.options;
    const pipeline = this.pipelineFor(entry);
    if (pipeline === undefined) {
      const verdict = noPipelineVerdict(entry);
      if (!(await this.recordVerdict(entry, verdict))) return;
      this.logger.error('no pipeline for a spooled file; rejected and moved to failed/', {
        id: entry.id,
        name: entry.name,
        error: verdict.error,
      });
      const result = verdictResult(entry, verdict);
      this.recordFinished(entry, result);
      await this.settle(entry, 'failed');
      this.options.onFinished?.(entry, result);
      return;
    }
    const controller = new AbortController();
    this.inFlight.set(entry.id, controller);
    metrics?.workerStarted();
    let result: IngestResult;
    try {
      result = await ingest(uploadSource(entry), pipeline, {
        pool: this.options.pool,
        ingestionId: entry.id,
        logger: this.logger,
        signal: controller.signal,
        ...(this.options.engineRetry ? { retry: this.options.engineRetry } : {}),
      });
    } finally {
      this.inFlight.delete(entry.id);
      metrics?.workerStopped();
    }
    if (controller.signal.aborted) {
      await this.handBack(entry, 'the server stopped while loading it');
      return;
    }
    await this.conclude(entry, result);
  }

  /** After the engine's verdict: retry a failure later, or record the file as finished and move it on. */
  private async conclude(entry: SpoolEntry, result: IngestResult): Promise<void> {
    if (result.status === 'failed') {
      await this.retryLater(entry, result);
      return;
    }
    this.retries.delete(entry.id);
    this.recordFinished(entry, result);
    // A rejected file reached a verdict: its rejects are in the ledger, so the bytes can age out with the rest.
    await this.settle(entry, 'done');
    this.options.onFinished?.(entry, result);
  }

  /** Prometheus counters for /metrics, and one EMF log line for the CloudWatch agent: the same names. */
  private recordFinished(entry: SpoolEntry, result: IngestResult): void {
    this.options.metrics?.ingested(result, entry.receivedAt);
    this.logger.info('file finished', emfRecord(entry.id, result, entry.receivedAt));
  }

  private pipelineFor(entry: SpoolEntry): Pipeline | undefined {
    const named = entry.meta.pipeline;
    const { config } = this.options;
    // The pipeline chosen at upload time, unless the config changed since: then route the name again.
    return config.pipelines.find((p) => p.name === named) ?? findPipeline(config, entry.name);
  }

  private async retryLater(entry: SpoolEntry, result: IngestResult): Promise<void> {
    const previous = this.retries.get(entry.id)?.attempts ?? 0;
    const attempts = previous + 1;
    const unavailable = result.error !== undefined && UNAVAILABLE.has(result.error.code);
    if (!unavailable && attempts >= this.options.maxAttempts) {
      // The engine wrote the failed row unless the ledger itself refused it: only a recorded verdict ends the file.
      const recorded = await this.recordVerdict(entry, {
        id: entry.id,
        status: 'failed',
        error: result.error ?? {
          code: 'internal',
          message: 'It failed on every attempt, without an error saying why: a bug, please report it.',
        },
        pipeline: result.pipeline,
        sourceUri: result.source,
        sha256: entry.sha256,
        bytes: entry.size,
        receivedAt: entry.receivedAt,
      });
      if (!recorded) return;
      this.retries.delete(entry.id);
      this.logger.error('file failed on every attempt; moved to failed/', {
        id: entry.id,
        attempts,
        error: result.error,
      });
      this.recordFinished(entry, result);
      await this.settle(entry, 'failed');
      this.options.onFinished?.(entry, result);
      return;
    }
    const delay = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** (attempts - 1));
    this.retries.set(entry.id, { attempts, notBefore: Date.now() + delay });
    this.logger.warn('file failed; it will be tried again', {
      id: entry.id,
      attempts,
      delayMs: delay,
      error: result.error,
    });
    await this.handBack(entry, result.error?.message ?? 'it failed');
  }

  /**
   * Writes the final row of an entry about to leave the live folders. When the ledger cannot take it, the
   * entry goes back to `incoming/` and is tried again after a delay (false): it may leave only with its row.
   */
  private async recordVerdict(entry: SpoolEntry, verdict: SpoolVerdict): Promise<boolean> {
    try {
      await recordSpoolVerdict(this.options.pool, verdict);
      return true;
    } catch (error) {
      const attempts = (this.retries.get(entry.id)?.attempts ?? 0) + 1;
      const delay = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** (attempts - 1));
      this.retries.set(entry.id, { attempts, notBefore: Date.now() + delay });
      this.logger.warn("could not record a file's final verdict in the ledger; it stays in the spool", {
        id: entry.id,
        verdict: verdict.error,
        delayMs: delay,
        error,
      });
      await this.handBack(entry, 'its verdict could not be recorded');
      return false;
    }
  }

  /** Back to `incoming/`, and the ledger says queued again rather than a final-looking `failed`. */
  private async handBack(entry: SpoolEntry, why: string): Promise<void> {
    try {
      await this.options.spool.release(entry);
    } catch (error) {
      this.logger.error('could not hand a file back to the spool', { id: entry.id, error });
      return;
    }
    await this.options.pool
      .query(
        `UPDATE inlet.ingestions SET status = 'queued', finished_at = NULL
          WHERE id = $1 AND status IN ('failed', 'processing')`,
        [entry.id],
      )
      .catch((error: unknown) =>
        this.logger.warn('could not mark a handed-back file queued', { id: entry.id, why, error }),
      );
  }

  private async settle(entry: SpoolEntry, outcome: 'done' | 'failed'): Promise<void> {
    try {
      await this.options.spool.finish(entry, outcome);
    } catch (error) {
      // The ledger already has the outcome; a resumed entry will end as a duplicate of it.
      this.logger.error('could not move a finished file in the spool', { id: entry.id, outcome, error });
    }
  }
}

/** What the engine would have reported for a verdict reached without it. */
function verdictResult(entry: SpoolEntry, verdict: SpoolVerdict): IngestResult {
  return {
    source: verdict.sourceUri,
    pipeline: verdict.pipeline,
    status: verdict.status,
    ingestionId: entry.id,
    rowsLoaded: 0,
    rowsRejected: 0,
    bytes: entry.size,
    durationMs: 0,
    contentSha256: entry.sha256,
    error: verdict.error,
    rejects: [],
  };
}
