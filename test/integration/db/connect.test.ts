import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPool, resolveDatabaseUrl } from '../../../src/db/connect.js';
import { isRetryable, toDatabaseError } from '../../../src/db/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

describe('resolveDatabaseUrl', () => {
  const saved = { url: process.env.DATABASE_URL, dir: process.env.INLET_DATA_DIR };
  afterEach(() => {
    for (const [key, value] of [
      ['DATABASE_URL', saved.url],
      ['INLET_DATA_DIR', saved.dir],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('prefers the explicit URL, then DATABASE_URL', async () => {
    process.env.DATABASE_URL = 'postgres://env@127.0.0.1:1/env';
    const explicit = await resolveDatabaseUrl({ databaseUrl: 'postgres://opt@127.0.0.1:1/opt' });
    expect(explicit).toMatchObject({ url: 'postgres://opt@127.0.0.1:1/opt', source: 'option' });
    const fromEnv = await resolveDatabaseUrl();
    expect(fromEnv).toMatchObject({ url: 'postgres://env@127.0.0.1:1/env', source: 'env' });
    await explicit.close();
    await fromEnv.close();
  });

  it('starts the embedded server under INLET_DATA_DIR when no URL is given, and close() stops it', async () => {
    delete process.env.DATABASE_URL;
    const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'inlet-connect-test-'));
    await fs.chmod(parent, 0o755);
    process.env.INLET_DATA_DIR = path.join(parent, 'data');
    try {
      const db = await resolveDatabaseUrl();
      expect(db.source).toBe('embedded');
      const pool = createPool(db.url, { max: 1 });
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await pool.end();
      await db.close();
      const after = createPool(db.url, { max: 1, connectionTimeoutMillis: 2_000 });
      const error = await after.query('SELECT 1').catch((err: unknown) => err);
      await after.end();
      expect(isRetryable(error)).toBe(true);
      expect(toDatabaseError(error, 'checking').message).toMatch(
        /Cannot reach PostgreSQL at 127\.0\.0\.1:\d+/,
      );
    } finally {
      await fs.rm(parent, { recursive: true, force: true });
    }
  });
});

describe('createPool', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('names its connections and survives the server closing an idle one', async () => {
    const lines: string[] = [];
    const logger = createLogger({}, 'warn', (line) => lines.push(line));
    const pool = createPool(db.url, { max: 2, applicationName: 'inlet-pool-test', logger });
    try {
      const pid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      const name = await pool.query<{ name: string }>("SELECT current_setting('application_name') AS name");
      expect(name.rows[0]?.name).toBe('inlet-pool-test');

      await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await vi.waitFor(() => expect(lines.join('')).toContain('idle PostgreSQL connection was closed'), {
        timeout: 5_000,
      });
      expect((await pool.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
      expect(lines.join('')).not.toContain(new URL(db.url).password);
    } finally {
      await pool.end();
    }
  });
});
