/**
 * The database a command works on: `--database-url`, else DATABASE_URL, else the secret
 * INLET_DATABASE_SECRET_ARN names, else the embedded PostgreSQL of INLET_DATA_DIR (started on demand;
 * ./settings.ts reads these). Whatever was opened is closed by `close()`, so a command never leaves a pool
 * or an embedded server behind.
 */
import type pg from 'pg';
import { createPool, resolveDatabaseUrl } from '../db/connect.js';
import { migrate } from '../db/migrate.js';
import type { Logger } from '../observability/logger.js';
import { type DatabaseTarget, databaseTarget } from './settings.js';

export interface Database {
  readonly url: string;
  readonly pool: pg.Pool;
  /** Migration versions applied by this open (empty when the schema was up to date or not migrated). */
  readonly applied: readonly number[];
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `--database-url`. */
  readonly databaseUrl?: string | undefined;
  readonly logger: Logger;
  /** Apply missing migrations first: every command that writes the ledger needs its tables. */
  readonly migrate?: boolean;
  /** Connections at most; default 4 (a server sizes it to its workers). */
  readonly poolMax?: number;
  /** Cuts the pool's connections, those being made included (createPool's `signal`). */
  readonly signal?: AbortSignal;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const resolved = await resolveDatabaseUrl({
    ...databaseTarget(options.databaseUrl),
    logger: options.logger,
  });
  const pool = createPool(resolved.url, {
    applicationName: 'inlet-cli',
    max: options.poolMax ?? 4,
    ...(resolved.password ? { password: resolved.password } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const close = async () => {
    try {
      await pool.end();
    } finally {
      await resolved.close();
    }
  };
  try {
    const applied = options.migrate ? (await migrate(pool)).applied : [];
    return { url: resolved.url, pool, applied, close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

export async function withDatabase<T>(
  options: DatabaseOptions,
  work: (db: Database) => Promise<T>,
): Promise<T> {
  const db = await openDatabase(options);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

export interface LazyDatabase {
  /** The database, opened on the first call. */
  get(): Promise<Database>;
  /**
   * Starts opening the database now when that is only connecting to a URL (`--database-url`, DATABASE_URL),
   * so that the connection's round trips (TCP, SCRAM, the server starting a backend, the schema check: 10 to
   * 30 ms of wall time, mostly waiting) overlap what the command does before its first file reaches the
   * engine (reading the config, finding the files). Does nothing for an embedded database or a secret's,
   * which stay opened on first use. A failure is kept for `get()` to report, where it would have happened;
   * missing migrations are applied even when the command then stops on its config, as its next run would.
   */
  warm(): void;
  /**
   * Closes what was opened. An opening still under way (a connection warmed and never asked for) is given
   * CLOSE_GRACE_MS to finish, as a server that answers does, and is then cut: the command is done with it,
   * and a server that accepts and never answers would otherwise hold its exit up to the connection timeout.
   */
  close(): Promise<void>;
}

/** How long close() lets an opening under way finish before cutting it. */
export const CLOSE_GRACE_MS = 1000;

/** Opens the database on first `get()`: a run where no file reaches the engine never starts one, unless warmed. */
export function lazyDatabase(options: DatabaseOptions): LazyDatabase {
  const abandon = new AbortController();
  let opening: Promise<Database> | undefined;
  let settled = false;
  const get = () => {
    if (opening === undefined) {
      opening = openDatabase({ ...options, signal: abandon.signal });
      opening.then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
    }
    return opening;
  };
  return {
    get,
    warm: () => {
      let target: DatabaseTarget;
      try {
        target = databaseTarget(options.databaseUrl);
      } catch {
        // A bad variable stops the command where the database is asked for, as it did.
        return;
      }
      if (target.url !== undefined) get().catch(() => undefined);
    },
    close: async () => {
      if (opening === undefined) return;
      const cut = settled ? undefined : setTimeout(() => abandon.abort(), CLOSE_GRACE_MS);
      const db = await opening.catch(() => undefined);
      clearTimeout(cut);
      await db?.close();
    },
  };
}
