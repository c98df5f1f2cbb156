/**
 * Several small files of one pipeline loaded in one transaction: for a file of a few rows, the transaction
 * around it (BEGIN with its lock, the ledger lookup, the ledger row, COMMIT and its WAL flush) cost more round
 * trips than its rows. Each file keeps its own identity, ledger row and verdict, as if loaded alone:
 *
 * - the batch takes the locks of all its files at BEGIN (in key order) and asks the ledger about all of them in
 *   one statement; each file then runs in a savepoint of its own, so a file PostgreSQL refuses is undone alone
 *   and its neighbours stay;
 * - the loaded files' ledger rows are written together, and commit with their rows in the batch's COMMIT;
 *   verdicts reached without loading (rejected, duplicate…) are written at once, as for a file alone;
 * - a file that failed in its savepoint, and every file of a batch that could not commit, is loaded again
 *   alone with `ingest()` (same ingestion id): a batch that did commit answers there with its verdict, so
 *   nothing is lost or loaded twice, and a crash anywhere leaves what a crash of single files would.
 *
 * Only append pipelines with a declared contract that does not evolve are batched (`batchable`): a staging
 * table, a replace guard, a contract inferred from the first file or columns a file adds (onDrift: evolve)
 * belong to one file's transaction.
 */
import type { PoolClient } from 'pg';
import { isRetryable } from '../db/errors.js';
import type { Pipeline } from '../model/contract.js';
import type { IngestResult, ObjectSource } from '../model/ingestion.js';
import { silentLogger } from '../observability/logger.js';
import { withConnection } from './connection.js';
import type { FileUnit } from './file-unit.js';
import { infersContract } from './first-file-contract.js';
import { attemptIngest, ensureTable, type FileRun, ingest, type RetryPolicy } from './ingest.js';
import type { IngestOptions } from './ingest-options.js';
import {
  beginLockedAll,
  findPriors,
  type LedgerEntry,
  type PriorRecord,
  writeLedgers,
} from './ledger-entry.js';

/** One file of a batch and the id its front door gave it. */
export interface BatchFile {
  readonly source: ObjectSource;
  readonly ingestionId: string;
}

export type BatchOptions = Omit<IngestOptions, 'ingestionId' | 'dryRun' | 'onProgress'> & {
  readonly retry?: RetryPolicy;
};

/** The most files in one batch: each savepoint is a subtransaction, and PostgreSQL caches 64 per transaction. */
export const MAX_BATCH_FILES = 32;

/** Whether files of this pipeline can share a transaction. */
export function batchable(pipeline: Pipeline): boolean {
  // An evolving pipeline's file may alter the table and hold its evolve lock until it commits: it loads alone.
  return pipeline.mode === 'append' && !infersContract(pipeline) && pipeline.onDrift !== 'evolve';
}

const SAVEPOINT = 'inlet_file';

/**
 * Loads `files` (of one pipeline) and returns each one's result, in their order, once every verdict is
 * committed. A file whose URI is already in the batch, and any file beyond MAX_BATCH_FILES, is loaded alone
 * after the batch, in order, so that it sees the verdict of the one before it.
 */
export async function ingestBatch(
  files: readonly BatchFile[],
  pipeline: Pipeline,
  options: BatchOptions,
): Promise<IngestResult[]> {
  const alone = (file: BatchFile) =>
    ingest(file.source, pipeline, { ...options, ingestionId: file.ingestionId });
  const uris = new Set<string>();
  const batch: number[] = [];
  for (const [i, file] of files.entries()) {
    if (batch.length >= MAX_BATCH_FILES || uris.has(file.source.uri)) continue;
    uris.add(file.source.uri);
    batch.push(i);
  }
  const results: (IngestResult | undefined)[] = new Array(files.length);
  if (batch.length > 1 && batchable(pipeline)) {
    const committed = await loadTogether(
      batch.map((i) => files[i] as BatchFile),
      pipeline,
      options,
    ).catch((error: unknown) => {
      (options.logger ?? silentLogger).warn('a batch of files could not commit; loading each alone', {
        pipeline: pipeline.name,
        files: batch.length,
        error,
      });
      return [];
    });
    for (const [k, result] of committed.entries()) {
      if (result !== undefined) results[batch[k] as number] = result;
    }
  }
  for (const [i, file] of files.entries()) {
    if (results[i] === undefined) {
      options.signal?.throwIfAborted();
      results[i] = await alone(file);
    }
  }
  return results as IngestResult[];
}

/**
 * One transaction for `files` (distinct URIs); resolves after COMMIT with each file's result, or undefined for
 * a file its savepoint undid (to be loaded alone). Throws, having rolled everything back, when the batch
 * cannot commit.
 */
async function loadTogether(
  files: readonly BatchFile[],
  pipeline: Pipeline,
  options: BatchOptions,
): Promise<(IngestResult | undefined)[]> {
  if (pipeline.createTable) await ensureTable(options.pool, pipeline);
  const logger = options.logger ?? silentLogger;
  return withConnection(options.pool, async (client, broken) => {
    await beginLockedAll(
      client,
      pipeline,
      files.map((f) => f.source.uri),
    );
    const priors = await findPriors(
      client,
      pipeline,
      files.map((f) => ({
        source: f.source,
        ask: { settledId: f.ingestionId, skipChecks: options.force !== true },
      })),
    );
    const verdicts: LedgerEntry[] = [];
    const savepoint = new SavepointChain();
    const results: (IngestResult | undefined)[] = [];
    for (const [i, file] of files.entries()) {
      options.signal?.throwIfAborted();
      const run: FileRun = {
        id: file.ingestionId,
        source: file.source,
        pipeline,
        options: { ...options, ingestionId: file.ingestionId },
        startedAt: new Date(),
        logger: logger.child({
          ingestionId: file.ingestionId,
          pipeline: pipeline.name,
          source: file.source.uri,
        }),
        unit: savepoint.unit(priors[i] as PriorRecord, verdicts),
      };
      try {
        results.push(await attemptIngest(run, client));
      } catch (error) {
        if (broken() || isRetryable(error) || options.signal?.aborted) throw error;
        // PostgreSQL refused this file (a constraint, a value out of range): its savepoint is undone and it is
        // loaded alone after the batch, where its failure is reported as any file's.
        await savepoint.undo(client);
        run.logger.warn('a file failed inside a batch; it will be loaded alone', { error });
        results.push(undefined);
      }
    }
    await writeLedgers(client, verdicts);
    await client.query('COMMIT');
    for (const result of results) {
      if (result === undefined) continue;
      logger.info('ingestion finished', {
        ingestionId: result.ingestionId,
        pipeline: pipeline.name,
        source: result.source,
        status: result.status,
        rowsLoaded: result.rowsLoaded,
        rowsRejected: result.rowsRejected,
        durationMs: result.durationMs,
        batch: files.length,
      });
    }
    return results;
  });
}

/**
 * The savepoints of a batch, one open at a time: opening the next releases the one before (one round trip for
 * both), so the files that loaded become part of the batch and only the current file can be undone.
 */
class SavepointChain {
  private open = false;

  unit(prior: PriorRecord, verdicts: LedgerEntry[]): FileUnit {
    return {
      prior,
      begin: async (client) => {
        await client.query(
          this.open ? `RELEASE SAVEPOINT ${SAVEPOINT}; SAVEPOINT ${SAVEPOINT}` : `SAVEPOINT ${SAVEPOINT}`,
        );
        this.open = true;
      },
      abandon: (client) => this.undo(client),
      commit: async (_client, entry) => {
        verdicts.push(entry);
      },
    };
  }

  /** Undoes the current file; its savepoint stays open (empty) until the next file releases it. */
  async undo(client: PoolClient): Promise<void> {
    if (this.open) await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
  }
}
