/**
 * Every spool entry that leaves the live folders (incoming/, processing/) for failed/ first gets a final
 * ledger row: `rejected` when the file is at fault (no pipeline takes it any more), `failed` when the
 * environment is (its sidecar cannot be read back). A `queued` row must never outlive its entry's move.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { createPool } from '../../../src/db/connect.js';
import type { InletConfig } from '../../../src/model/contract.js';
import { QueuedLedger } from '../../../src/server/queued-ledger.js';
import { Spool, type SpoolEntry } from '../../../src/server/spool.js';
import { WorkerPool } from '../../../src/server/worker.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { damageSidecar } from '../../harness/spool-entries.js';
import { runService } from '../../harness/upload-service.js';

let db: TestDatabase;
const dirs: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query('CREATE SCHEMA verdicts');
});

afterAll(async () => {
  await db?.drop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Only orders/** is routed: a file accepted for a pipeline since removed matches nothing. */
const config: InletConfig = parseConfig(
  JSON.stringify({
    pipelines: [
      {
        name: 'orders',
        match: ['orders/**'],
        format: 'csv',
        table: 'verdicts.orders',
        createTable: true,
        columns: [{ name: 'id', type: 'bigint', nullable: false }],
      },
    ],
  }),
  'spool verdicts config',
);

async function spoolDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'inlet-verdicts-'));
  dirs.push(dir);
  return dir;
}

/** An entry as the upload API leaves it: spooled, with its `queued` ledger row. */
async function accepted(dir: string, name: string, pipeline: string, queuedRow = true): Promise<SpoolEntry> {
  const spool = new Spool(dir, { minFreeBytes: 0 });
  await spool.open();
  const entry = await spool.accept(Readable.from([Buffer.from('id\n1\n')]), {
    name,
    maxBytes: 1e6,
    meta: { pipeline },
  });
  if (queuedRow) {
    const named = { ...config.pipelines[0]!, name: pipeline };
    await db.pool.query(QueuedLedger.sql(1), QueuedLedger.row(named, entry));
  }
  return entry;
}

async function ledgerRow(id: string) {
  const { rows } = await db.pool.query(
    'SELECT pipeline, source_uri, status, error_code, error_message, finished_at FROM inlet.ingestions WHERE id = $1',
    [id],
  );
  return rows;
}

async function waitForState(dir: string, state: string, id: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1000; i++) {
    const names: string[] = await readdir(path.join(dir, state)).catch(() => []);
    if (names.includes(id)) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`entry ${id} did not reach ${state}/ in ${timeoutMs} ms`);
}

describe('an entry no pipeline takes any more', () => {
  it('ends rejected (no_pipeline) in the ledger, with what to do, before it moves to failed/', async () => {
    const dir = await spoolDir();
    const entry = await accepted(dir, 'invoices/2024.csv', 'invoices');
    expect(await ledgerRow(entry.id)).toMatchObject([{ status: 'queued' }]);
    const running = await runService(db, config, { spoolDir: dir });
    try {
      await running.waitFinished(1, 10_000);
      await waitForState(dir, 'failed', entry.id);
      expect(running.finished[0]?.result).toMatchObject({
        status: 'rejected',
        ingestionId: entry.id,
        error: { code: 'no_pipeline' },
      });
    } finally {
      await running.stop();
    }
    const [row] = await ledgerRow(entry.id);
    expect(row).toMatchObject({
      pipeline: 'invoices',
      source_uri: 'upload:///invoices/2024.csv',
      status: 'rejected',
      error_code: 'no_pipeline',
      finished_at: expect.any(Date),
    });
    expect(row.error_message).toMatch(/invoices\/2024\.csv/);
    expect(row.error_message).toMatch(/"invoices"/);
    expect(row.error_message).toMatch(/upload it again/i);
  });

  it('stays in the spool while the ledger cannot take its verdict', async () => {
    const dir = await spoolDir();
    const entry = await accepted(dir, 'nowhere.csv', 'gone', false);
    // Nothing listens on port 1: every ledger write fails at once.
    const deadPool = createPool('postgres://inlet@127.0.0.1:1/inlet', { max: 1, applicationName: 'dead' });
    const spool = new Spool(dir, { minFreeBytes: 0 });
    const workers = new WorkerPool({ spool, config, pool: deadPool, pollMs: 20, concurrency: 1 });
    try {
      await workers.start(await spool.open());
      await new Promise((resolve) => setTimeout(resolve, 400));
    } finally {
      await workers.stop(1000);
      await deadPool.end().catch(() => undefined);
    }
    expect(await readdir(path.join(dir, 'failed'))).toEqual([]);
    expect(await spool.locate(entry.id)).toBe('incoming');
  });
});

describe('an entry whose sidecar cannot be read back', () => {
  it.each(['incoming', 'processing'] as const)(
    'in %s/: ends failed (spool_entry_unreadable) in the ledger before it moves to failed/',
    async (state) => {
      const dir = await spoolDir();
      const entry = await accepted(dir, 'orders/broken.csv', 'orders');
      if (state === 'processing') await new Spool(dir, { minFreeBytes: 0 }).claim();
      await damageSidecar(path.join(dir, state, entry.id), '{"name":');
      const running = await runService(db, config, { spoolDir: dir });
      try {
        await waitForState(dir, 'failed', entry.id);
      } finally {
        await running.stop();
      }
      const [row] = await ledgerRow(entry.id);
      expect(row).toMatchObject({
        pipeline: 'orders',
        source_uri: 'upload:///orders/broken.csv',
        status: 'failed',
        error_code: 'spool_entry_unreadable',
        finished_at: expect.any(Date),
      });
      expect(row.error_message).toContain(entry.id);
      expect(row.error_message).toMatch(/upload the file again/i);
      const loaded = await db.pool.query(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'verdicts'`,
      );
      expect(loaded.rows[0].n).toBe(0);
    },
  );

  it('gets a ledger row of its own when it had no queued row', async () => {
    const dir = await spoolDir();
    const entry = await accepted(dir, 'orders/lost.csv', 'orders', false);
    await damageSidecar(path.join(dir, 'incoming', entry.id), 'not json');
    const running = await runService(db, config, { spoolDir: dir });
    try {
      await waitForState(dir, 'failed', entry.id);
    } finally {
      await running.stop();
    }
    expect(await ledgerRow(entry.id)).toMatchObject([
      { status: 'failed', error_code: 'spool_entry_unreadable', source_uri: `spool:///failed/${entry.id}` },
    ]);
  });
});

describe('the spool on its own', () => {
  it('keeps an unreadable entry live (back in incoming/) while its verdict cannot be recorded', async () => {
    const dir = await spoolDir();
    const entry = await accepted(dir, 'orders/x.csv', 'orders', false);
    await new Spool(dir, { minFreeBytes: 0 }).claim();
    await damageSidecar(path.join(dir, 'processing', entry.id), '{');
    const refusing = new Spool(dir, {
      minFreeBytes: 0,
      recordUnreadable: async () => {
        throw new Error('the ledger is down');
      },
    });
    expect(await refusing.open()).toEqual([]);
    expect(await refusing.locate(entry.id)).toBe('incoming');
    expect(await refusing.claim()).toBeUndefined();
    expect(await refusing.locate(entry.id)).toBe('incoming');
    const recorded: string[] = [];
    const recording = new Spool(dir, {
      minFreeBytes: 0,
      recordUnreadable: async (id) => void recorded.push(id),
    });
    expect(await recording.claim()).toBeUndefined();
    expect(recorded).toEqual([entry.id]);
    expect(await recording.locate(entry.id)).toBe('failed');
  });
});
