/**
 * Migration 8 renames the error codes older versions stored in another casing (or under an older name),
 * in the ledger and in the snapshot runs, so that readers see only codes of the catalogue; the codes it
 * renames are exactly those the catalogue lists as `formerly`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/db/migrate.js';
import { renamedErrorCodes } from '../../../src/db/migrations/008-error-code-casing.js';
import { migrations } from '../../../src/db/migrations/index.js';
import { type ErrorCodeInfo, errorCodes, isErrorCode } from '../../../src/error-codes/index.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

const MIGRATION = migrations.find((m) => m.name === 'error-code-casing');
const BEFORE = migrations.filter((m) => m.version < (MIGRATION?.version ?? 0));
const UP_TO = migrations.filter((m) => m.version <= (MIGRATION?.version ?? 0));

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  await migrate(db.pool, { migrations: BEFORE });
});

afterAll(async () => {
  await db?.drop();
});

async function insertIngestion(code: string | null): Promise<string> {
  const id = randomUUID();
  await db.pool.query(
    `INSERT INTO inlet.ingestions (id, pipeline, source_uri, status, target_table, mode, started_at, finished_at,
        error_code, error_message)
     VALUES ($1, 'orders', $2, 'failed', 'public.orders', 'append', now(), now(), $3, 'as stored')`,
    [id, `file:///in/${id}.csv`, code],
  );
  return id;
}

async function insertRun(code: string | null): Promise<string> {
  const id = randomUUID();
  await db.pool.query(
    `INSERT INTO inlet.snapshot_runs (id, trigger, provider, target, host, status, error_code)
     VALUES ($1, 'schedule', 'archive', 'file:///snapshots', 'host', 'failed', $2)`,
    [id, code],
  );
  return id;
}

describe('migration 8: error codes in one casing', () => {
  it('renames exactly the names the catalogue lists as former names', () => {
    const formerly = Object.fromEntries(
      (Object.entries(errorCodes) as [string, ErrorCodeInfo][]).flatMap(([code, info]) =>
        (info.formerly ?? []).map((old) => [old, code]),
      ),
    );
    expect(renamedErrorCodes).toEqual(formerly);
    for (const [old, code] of Object.entries(renamedErrorCodes)) {
      expect(isErrorCode(code), code).toBe(true);
      expect(isErrorCode(old), old).toBe(false);
    }
  });

  it('rewrites old codes in inlet.ingestions and inlet.snapshot_runs, and leaves every other row alone', async () => {
    expect(MIGRATION?.version).toBe(8);
    const ingestions = new Map<string, string | null>([
      [await insertIngestion('DB_UNREACHABLE'), 'db_unreachable'],
      [await insertIngestion('DB_EMBEDDED_START'), 'db_embedded_start'],
      [await insertIngestion('INVALID_IDENTIFIER'), 'invalid_identifier'],
      [await insertIngestion('failed'), 'internal'],
      [await insertIngestion('schema_drift'), 'schema_drift'],
      [await insertIngestion('SOMETHING_ELSE'), 'SOMETHING_ELSE'],
      [await insertIngestion(null), null],
    ]);
    const runs = new Map<string, string | null>([
      [await insertRun('failed'), 'internal'],
      [await insertRun('DB_CONNECTION_LOST'), 'db_connection_lost'],
      [await insertRun('locked'), 'locked'],
      [await insertRun(null), null],
    ]);

    expect(await migrate(db.pool, { migrations: UP_TO })).toEqual({ applied: [8] });

    const { rows: ingestionRows } = await db.pool.query<{ id: string; error_code: string | null }>(
      'SELECT id, error_code FROM inlet.ingestions',
    );
    expect(new Map(ingestionRows.map((row) => [row.id, row.error_code]))).toEqual(ingestions);
    const { rows: runRows } = await db.pool.query<{ id: string; error_code: string | null }>(
      'SELECT id, error_code FROM inlet.snapshot_runs',
    );
    expect(new Map(runRows.map((row) => [row.id, row.error_code]))).toEqual(runs);
  });
});
