/**
 * The ledger's `queued` rows for accepted uploads, written in batches off the request path. The row is
 * a convenience (recent-ingestion lists show the file before a worker takes it; single lookups fall back
 * to the spool), and the worker writes the full row anyway, so a 202 never waits for the database.
 */
import type pg from 'pg';
import type { Pipeline } from '../model/contract.js';
import type { Logger } from '../observability/logger.js';
import type { SpoolEntry } from './spool.js';
import { entrySourceUri } from './upload-source.js';

const COLUMNS = 8;
/** Rows per INSERT at most: well under PostgreSQL's 65,535 parameters. */
const MAX_BATCH = 500;
/** How long the first row of a batch waits for company. */
const LINGER_MS = 5;

/** What a queued row says of a spooled file. */
export type QueuedFile = Pick<SpoolEntry, 'id' | 'name' | 'sha256' | 'size' | 'receivedAt' | 'meta'>;

/** Where the upload API sends the queued rows: a QueuedLedger, or the drain thread's (drain-host.ts). */
export interface QueuedRows {
  add(pipeline: Pipeline, staged: QueuedFile): void;
  /** Resolves when every row added so far has been tried. */
  flush(): Promise<void>;
}

export class QueuedLedger implements QueuedRows {
  private pending: unknown[][] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
  ) {}

  /** The parameters of one queued row, also used inside the Idempotency-Key transaction. */
  static row(pipeline: Pipeline, staged: QueuedFile): unknown[] {
    return [
      staged.id,
      pipeline.name,
      entrySourceUri(staged),
      staged.sha256,
      staged.size,
      `${pipeline.table.schema}.${pipeline.table.name}`,
      pipeline.mode,
      staged.receivedAt,
    ];
  }

  static sql(rows: number): string {
    const values = Array.from({ length: rows }, (_, r) => {
      const p = (c: number) => `$${r * COLUMNS + c}`;
      return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, 'queued', ${p(6)}, ${p(7)}, ${p(8)})`;
    });
    // DO NOTHING: a worker that already took the file has written the row that counts.
    return `INSERT INTO inlet.ingestions (id, pipeline, source_uri, content_sha256, bytes, status, target_table, mode, received_at)
            VALUES ${values.join(', ')}
            ON CONFLICT (id) DO NOTHING`;
  }

  add(pipeline: Pipeline, staged: QueuedFile): void {
    this.pending.push(QueuedLedger.row(pipeline, staged));
    if (this.pending.length >= MAX_BATCH) this.flushSoon(0);
    else this.flushSoon(LINGER_MS);
  }

  /** Writes what is pending; resolves when every row added so far has been tried. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    // In id order, as a worker's batch writes its rows: two transactions that take row locks in one order
    // cannot each wait for the other.
    const rows = this.pending.splice(0).sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1));
    if (rows.length > 0) {
      this.flushing = this.flushing.then(() => this.write(rows));
    }
    await this.flushing;
  }

  private flushSoon(delayMs: number): void {
    if (this.timer !== undefined && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), delayMs);
  }

  private async write(rows: unknown[][]): Promise<void> {
    try {
      // Asynchronous commit: these rows need not survive a database crash, so no WAL flush is waited for.
      const client = await this.pool.connect();
      let failure: Error | undefined;
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL synchronous_commit = off');
        await client.query(QueuedLedger.sql(rows.length), rows.flat());
        await client.query('COMMIT');
      } catch (error) {
        failure = error as Error;
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release(failure);
      }
    } catch (error) {
      this.logger.warn('could not record queued uploads in the ledger; the worker will', {
        count: rows.length,
        error,
      });
    }
  }
}
