import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { inject } from 'vitest';
import { createPool } from '../../src/db/connect.js';
import { migrate } from '../../src/db/migrate.js';
import { quoteIdent } from '../../src/db/sql.js';

export interface TestDatabase {
  /** URL of the new database (password included). */
  url: string;
  /** A pool on it; closed by drop(). */
  pool: pg.Pool;
  name: string;
  /** Closes the pool and drops the database, even with connections still open. */
  drop(): Promise<void>;
}

/** The URL of the run's server with its database replaced by `database`. */
export function serverUrl(database: string): string {
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

export interface CreateTestDatabaseOptions {
  /** false: an empty database, for testing migrations themselves. Default true. */
  migrate?: boolean;
  /** Pool size; default 4. */
  max?: number;
}

/**
 * A fresh, uniquely named database with Inlet's migrations applied, so test files never see each
 * other's rows. Call in beforeAll, drop() in afterAll.
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const name = `inlet_test_${randomBytes(6).toString('hex')}`;
  const migrated = options.migrate !== false;
  // Copying the run's migrated template is about twice as fast as migrating; FILE_COPY (PG 15+)
  // beats the default WAL_LOG on the embedded server, where fsync is off.
  const template = migrated ? ` TEMPLATE ${quoteIdent(inject('templateDatabase'))}` : '';
  const strategy = inject('pgDataDir') !== '' ? ' STRATEGY = FILE_COPY' : '';
  await adminQuery(`CREATE DATABASE ${quoteIdent(name)}${template}${strategy}`);
  const url = serverUrl(name);
  const pool = createPool(url, { max: options.max ?? 4, applicationName: 'inlet-test' });
  try {
    // Cheap when copied from the template (nothing to apply); keeps the database current if not.
    if (migrated) await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    await adminQuery(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => undefined);
    throw err;
  }
  let dropped = false;
  return {
    url,
    pool,
    name,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await pool.end().catch(() => undefined);
      await adminQuery(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    },
  };
}

/** Runs one statement on the run's own database (CREATE/DROP DATABASE must not target the connected one). */
export async function adminQuery(sql: string): Promise<void> {
  const pool = createPool(inject('databaseUrl'), { max: 1, applicationName: 'inlet-test-admin' });
  try {
    await pool.query(sql);
  } finally {
    await pool.end();
  }
}

/** A pool over `pool` whose clients record the text of every statement they send into `statements`. */
export function spyStatements(pool: pg.Pool, statements: string[]): pg.Pool {
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== 'connect') return Reflect.get(target, property, receiver);
      return async () => {
        const client = await target.connect();
        return new Proxy(client, {
          get(inner, key, innerReceiver) {
            if (key !== 'query') return Reflect.get(inner, key, innerReceiver);
            return (query: unknown, ...rest: unknown[]) => {
              const text = typeof query === 'string' ? query : (query as { text?: string }).text;
              statements.push(String(text));
              return (inner.query as (...args: unknown[]) => unknown).call(inner, query, ...rest);
            };
          },
        });
      };
    },
  });
}
