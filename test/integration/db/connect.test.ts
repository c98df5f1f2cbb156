import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPool, resolveDatabaseUrl } from '../../../src/db/connect.js';
import { isRetryable, toDatabaseError } from '../../../src/db/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

describe('resolveDatabaseUrl', () => {
  it('takes the URL it is given over a secret and the embedded server', async () => {
    const db = await resolveDatabaseUrl({
      url: 'postgres://opt@127.0.0.1:1/opt',
      secret: { arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:never-read' },
      dataDir: path.join(os.tmpdir(), 'inlet-never-created'),
    });
    expect(db).toMatchObject({ url: 'postgres://opt@127.0.0.1:1/opt', source: 'url' });
    await db.close();
  });

  it('starts the embedded server under the data directory when there is no URL or secret, and close() stops it', async () => {
    const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'inlet-connect-test-'));
    await fs.chmod(parent, 0o755);
    try {
      const db = await resolveDatabaseUrl({ dataDir: path.join(parent, 'data') });
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
