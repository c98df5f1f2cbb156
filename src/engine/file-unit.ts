import type { PoolClient } from 'pg';
import type { Pipeline } from '../model/contract.js';
import { beginLocked, type LedgerEntry, type PriorRecord, writeLedger } from './ledger-entry.js';

/**
 * The unit of work one file's statements run in, and how it ends: a transaction of its own (a file loaded
 * alone), or a savepoint in a batch's transaction (ingest-batch.ts), where a file that fails is undone alone
 * and its neighbours stay.
 */
export interface FileUnit {
  /** What the ledger says about the file before it is read, when the batch asked already for all its files. */
  readonly prior?: PriorRecord;
  /** Opens the unit, under the lock of the file's (pipeline, URI). */
  begin(client: PoolClient): Promise<void>;
  /** Undoes everything since `begin`; the client can go on (in a batch, with the next file). */
  abandon(client: PoolClient): Promise<void>;
  /**
   * Writes the verdict's ledger row and makes the file's rows permanent with it; in a batch, both wait for the
   * batch's commit. `dryRun` undoes everything instead (`inlet validate`).
   */
  commit(client: PoolClient, entry: LedgerEntry, dryRun: boolean): Promise<void>;
}

/** A transaction of the file's own: BEGIN with its lock, then COMMIT with the ledger row, or ROLLBACK. */
export function ownTransaction(pipeline: Pipeline, uri: string): FileUnit {
  return {
    begin: (client) => beginLocked(client, pipeline, uri),
    abandon: async (client) => {
      await client.query('ROLLBACK');
    },
    commit: async (client, entry, dryRun) => {
      await writeLedger(client, entry);
      await client.query(dryRun ? 'ROLLBACK' : 'COMMIT');
    },
  };
}
