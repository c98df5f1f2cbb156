import type pg from 'pg';
import { DatabaseError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { silentLogger } from '../observability/logger.js';
import { toDatabaseError } from './errors.js';
import { migrations as defaultMigrations, type Migration } from './migrations/index.js';

/**
 * Every Inlet process that starts against the same database takes this transaction-scoped lock
 * before touching the schema, so concurrent starts apply each migration exactly once instead of
 * racing on CREATE ... IF NOT EXISTS (which is not safe under concurrency).
 */
export const MIGRATION_LOCK_KEY = 0x696e6c6574n; // 'inlet' in ASCII; any fixed value works

export interface MigrateOptions {
  logger?: Logger;
  /** For tests; defaults to the migrations shipped with Inlet. */
  migrations?: readonly Migration[];
}

export async function migrate(pool: pg.Pool, options: MigrateOptions = {}): Promise<{ applied: number[] }> {
  const logger = options.logger ?? silentLogger;
  const wanted = [...(options.migrations ?? defaultMigrations)].sort((a, b) => a.version - b.version);
  assertDistinctVersions(wanted);

  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw toDatabaseError(err, 'connecting to apply migrations');
  }
  const applied: number[] = [];
  try {
    const done =
      (await appliedWhenComplete(client, wanted)) ??
      (await inTransaction(client, 'preparing the migrations table', async () => {
        await ensureMigrationsTable(client);
        return appliedVersions(client);
      }));
    warnIfNewer(done, wanted, logger);

    for (const migration of wanted) {
      if (done.has(migration.version)) continue;
      const context = `applying migration ${migration.version} (${migration.name})`;
      const ran = await inTransaction(client, context, async () => {
        // Another process may have applied it between our read and taking the lock.
        const again = await client.query('SELECT 1 FROM inlet.schema_migrations WHERE version = $1', [
          migration.version,
        ]);
        if (again.rowCount !== 0) return false;
        await client.query(migration.sql);
        await client.query(
          'INSERT INTO inlet.schema_migrations (version, name, applied_at) VALUES ($1, $2, now())',
          [migration.version, migration.name],
        );
        return true;
      });
      if (ran) {
        applied.push(migration.version);
        logger.info('applied database migration', { version: migration.version, name: migration.name });
      }
    }
  } finally {
    client.release();
  }
  return { applied };
}

/**
 * The applied versions when every wanted migration is among them, else undefined (also when there is no
 * migrations table yet). A database that is up to date, as it is for every command but the first, is
 * answered by this one statement instead of a locked transaction of five: a migration read as applied
 * was committed, so nothing that could change under the lock would change the answer.
 */
async function appliedWhenComplete(
  client: pg.PoolClient,
  wanted: readonly Migration[],
): Promise<Set<number> | undefined> {
  let done: Set<number>;
  try {
    done = await appliedVersions(client);
  } catch (err) {
    // No inlet schema (3F000) or no migrations table (42P01) yet: the locked path creates them.
    const code = (err as { code?: unknown }).code;
    if (code === '3F000' || code === '42P01') return undefined;
    throw toDatabaseError(err, 'reading the applied migrations');
  }
  return wanted.every((migration) => done.has(migration.version)) ? done : undefined;
}

async function inTransaction<T>(client: pg.PoolClient, context: string, work: () => Promise<T>): Promise<T> {
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw toDatabaseError(err, context);
  }
}

/**
 * Checks before creating, because CREATE SCHEMA IF NOT EXISTS still demands the CREATE privilege
 * on the database: a user allowed only to use an already migrated schema must still start.
 */
async function ensureMigrationsTable(client: pg.PoolClient): Promise<void> {
  const schema = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = 'inlet'");
  if (schema.rowCount === 0) await client.query('CREATE SCHEMA inlet');
  const table = await client.query("SELECT to_regclass('inlet.schema_migrations') IS NOT NULL AS present");
  if (table.rows[0]?.present !== true) {
    await client.query(`CREATE TABLE inlet.schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  }
}

async function appliedVersions(client: pg.PoolClient): Promise<Set<number>> {
  const result = await client.query<{ version: number }>('SELECT version FROM inlet.schema_migrations');
  return new Set(result.rows.map((row) => row.version));
}

function warnIfNewer(done: Set<number>, wanted: readonly Migration[], logger: Logger): void {
  const known = new Set(wanted.map((m) => m.version));
  const unknown = [...done].filter((v) => !known.has(v)).sort((a, b) => a - b);
  if (unknown.length > 0) {
    logger.warn(
      'the database has migrations this version of Inlet does not know; a newer Inlet migrated it',
      {
        versions: unknown,
      },
    );
  }
}

function assertDistinctVersions(list: readonly Migration[]): void {
  const seen = new Set<number>();
  for (const m of list) {
    if (!Number.isInteger(m.version) || m.version < 1 || seen.has(m.version)) {
      throw new DatabaseError(
        'db_migration_invalid',
        `Migration version ${m.version} (${m.name}) is invalid or repeated: this build of Inlet is broken; install a released version.`,
      );
    }
    seen.add(m.version);
  }
}
