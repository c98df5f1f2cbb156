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
import { databaseTarget } from './settings.js';

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

/** Opens the database on first `get()`: a run where no file reaches the engine never starts one. */
export function lazyDatabase(options: DatabaseOptions): { get(): Promise<Database>; close(): Promise<void> } {
  let opening: Promise<Database> | undefined;
  return {
    get: () => {
      opening ??= openDatabase(options);
      return opening;
    },
    close: async () => {
      const db = await opening?.catch(() => undefined);
      await db?.close();
    },
  };
}
