/**
 * The scheduler's record of its runs, in `inlet.snapshot_runs` (migration 004), and the lock that keeps
 * two Inlet processes sharing one database from snapshotting at the same time.
 */
import { hostname } from 'node:os';
import type pg from 'pg';
import type { ErrorCode } from '../error-codes/index.js';

const ABANDONED: ErrorCode = 'abandoned';

export type RunTrigger = 'schedule' | 'manual';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'abandoned';

export interface RunStart {
  readonly id: string;
  readonly trigger: RunTrigger;
  readonly provider: string;
  readonly target: string;
}

export interface RunOutcome {
  readonly status: Exclude<RunStatus, 'running'>;
  readonly snapshotId?: string;
  readonly files?: number;
  readonly bytes?: number;
  readonly bytesUploaded?: number;
  readonly pruned?: number;
  readonly pruneError?: string;
  readonly errorCode?: ErrorCode;
  readonly errorMessage?: string;
}

export interface RunRecord extends RunStart, Omit<RunOutcome, 'status'> {
  readonly status: RunStatus;
  readonly host: string;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
}

export interface RunRecorder {
  /** Resolves with a release function, or undefined when another process holds the lock. */
  tryLock(): Promise<(() => Promise<void>) | undefined>;
  /** Marks runs left `running` by a process that died as `abandoned`; call while holding the lock. */
  abandonStale(): Promise<number>;
  start(run: RunStart): Promise<void>;
  finish(id: string, outcome: RunOutcome): Promise<void>;
}

/** `pg_try_advisory_lock(classid, objid)`: 'inlt' and 5 (the snapshot issue), apart from Inlet's other locks. */
const LOCK_CLASS = 0x696e6c74;
const LOCK_OBJECT = 5;
const KEEP_DAYS = 366;

export class PgRunRecorder implements RunRecorder {
  private readonly host = hostname();

  constructor(private readonly pool: pg.Pool) {}

  async tryLock(): Promise<(() => Promise<void>) | undefined> {
    // A session lock lives on one connection: keep that connection until the run is over.
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, $2) AS locked',
        [LOCK_CLASS, LOCK_OBJECT],
      );
      if (rows[0]?.locked !== true) {
        client.release();
        return undefined;
      }
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    return async () => {
      try {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, LOCK_OBJECT]);
        client.release();
      } catch (error) {
        // A connection whose unlock failed must not return to the pool still holding the lock.
        client.release(error as Error);
      }
    };
  }

  async abandonStale(): Promise<number> {
    const result = await this.pool.query(
      `UPDATE inlet.snapshot_runs
          SET status = 'abandoned', finished_at = now(), error_code = $1,
              error_message = 'the process running it stopped before it finished'
        WHERE status = 'running'`,
      [ABANDONED],
    );
    return result.rowCount ?? 0;
  }

  async start(run: RunStart): Promise<void> {
    await this.pool.query(
      `INSERT INTO inlet.snapshot_runs (id, trigger, provider, target, host, status)
       VALUES ($1, $2, $3, $4, $5, 'running')`,
      [run.id, run.trigger, run.provider, run.target, this.host],
    );
  }

  async finish(id: string, outcome: RunOutcome): Promise<void> {
    await this.pool.query(
      `UPDATE inlet.snapshot_runs
          SET status = $2, finished_at = now(), snapshot_id = $3, files = $4, bytes = $5, bytes_uploaded = $6,
              pruned = $7, prune_error = $8, error_code = $9, error_message = $10
        WHERE id = $1`,
      [
        id,
        outcome.status,
        outcome.snapshotId ?? null,
        outcome.files ?? null,
        outcome.bytes ?? null,
        outcome.bytesUploaded ?? null,
        outcome.pruned ?? null,
        outcome.pruneError ?? null,
        outcome.errorCode ?? null,
        outcome.errorMessage ?? null,
      ],
    );
    await this.pool.query(
      `DELETE FROM inlet.snapshot_runs WHERE started_at < now() - make_interval(days => $1)`,
      [KEEP_DAYS],
    );
  }
}

interface RunRow {
  id: string;
  trigger: RunTrigger;
  provider: string;
  target: string;
  host: string;
  status: RunStatus;
  started_at: Date;
  finished_at: Date | null;
  snapshot_id: string | null;
  files: string | null;
  bytes: string | null;
  bytes_uploaded: string | null;
  pruned: number | null;
  prune_error: string | null;
  error_code: string | null;
  error_message: string | null;
}

/** The latest runs, newest first (for the dashboard and operators). */
export async function recentSnapshotRuns(pool: pg.Pool, limit = 20): Promise<RunRecord[]> {
  const { rows } = await pool.query<RunRow>(
    'SELECT * FROM inlet.snapshot_runs ORDER BY started_at DESC, id DESC LIMIT $1',
    [limit],
  );
  return rows.map((row) => ({
    id: row.id,
    trigger: row.trigger,
    provider: row.provider,
    target: row.target,
    host: row.host,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    ...(row.snapshot_id === null ? {} : { snapshotId: row.snapshot_id }),
    ...(row.files === null ? {} : { files: Number(row.files) }),
    ...(row.bytes === null ? {} : { bytes: Number(row.bytes) }),
    ...(row.bytes_uploaded === null ? {} : { bytesUploaded: Number(row.bytes_uploaded) }),
    ...(row.pruned === null ? {} : { pruned: row.pruned }),
    ...(row.prune_error === null ? {} : { pruneError: row.prune_error }),
    // finish() stores only catalogue codes, and migration 008 renamed the ones older versions stored.
    ...(row.error_code === null ? {} : { errorCode: row.error_code as ErrorCode }),
    ...(row.error_message === null ? {} : { errorMessage: row.error_message }),
  }));
}
