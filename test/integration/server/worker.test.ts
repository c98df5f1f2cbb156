/**
 * The worker pool and the service around it, on a real PostgreSQL: back-pressure with few connections
 * (F7), a full spool disk (F6), shutdown that hands files back, resume after a crash, and retries.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import type { InletConfig } from '../../../src/model/contract.js';
import { createLogger } from '../../../src/observability/logger.js';
import { Spool } from '../../../src/server/spool.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { api, runService } from '../../harness/upload-service.js';

let db: TestDatabase;

beforeAll(async () => {
  // Few connections on purpose: F7 is about far more files than connections.
  db = await createTestDatabase({ max: 3 });
});

afterAll(async () => {
  await db?.drop();
});

/** An append pipeline: a file loaded twice would show its rows twice. */
function appendConfig(table: string, extra: Record<string, unknown> = {}): InletConfig {
  return parseConfig(
    JSON.stringify({
      pipelines: [
        {
          name: 'items',
          match: ['**'],
          format: 'csv',
          table,
          createTable: true,
          columns: [
            { name: 'file', type: 'text', nullable: false },
            { name: 'n', type: 'integer', nullable: false },
          ],
          ...extra,
        },
      ],
    }),
    'worker test config',
  );
}

function csvFor(file: string, rows: number): string {
  let text = 'file,n\n';
  for (let n = 1; n <= rows; n++) text += `${file},${n}\n`;
  return text;
}

async function entriesIn(spoolDir: string, state: string): Promise<string[]> {
  return readdir(path.join(spoolDir, state)).catch(() => []);
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('F7: far more concurrent uploads than database connections', () => {
  it('accepts 120 concurrent uploads on a pool of 3 and loads each exactly once', async () => {
    await db.pool.query('CREATE SCHEMA f7');
    const running = await runService(db, appendConfig('f7.items'), { workers: 2 });
    try {
      const files = Array.from({ length: 120 }, (_, i) => `batch-${String(i).padStart(3, '0')}.csv`);
      const answers = await Promise.all(
        files.map((name) =>
          api(running.service, `/v1/files/${name}`, { method: 'PUT', body: csvFor(name, 5) }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(files.map(() => 202));
      await running.waitFinished(files.length, 60_000);
      const { rows } = await db.pool.query(
        'SELECT count(*)::int AS rows, count(DISTINCT file)::int AS files FROM f7.items',
      );
      expect(rows[0]).toEqual({ rows: 600, files: 120 });
      const ledger = await db.pool.query(
        `SELECT status, count(*)::int AS n FROM inlet.ingestions WHERE pipeline = 'items' AND source_uri LIKE 'upload:///batch-%' GROUP BY status`,
      );
      expect(ledger.rows).toEqual([{ status: 'loaded', n: 120 }]);
      expect(await entriesIn(running.spoolDir, 'incoming')).toEqual([]);
      expect(await entriesIn(running.spoolDir, 'processing')).toEqual([]);
      expect(await entriesIn(running.spoolDir, 'done')).toHaveLength(120);
    } finally {
      await running.stop();
    }
  });
});

describe('notifications', () => {
  it('tells the notifier of each finished upload with its ingestion id', async () => {
    await db.pool.query('CREATE SCHEMA notify');
    const told: { id: string | null; status: string }[] = [];
    const running = await runService(db, appendConfig('notify.items'), {
      notifier: {
        ingestionFinished: async (result) => {
          told.push({ id: result.ingestionId, status: result.status });
        },
      },
    });
    try {
      const answer = await api(running.service, '/v1/files/told.csv', {
        method: 'PUT',
        body: csvFor('told.csv', 2),
      });
      const { ingestionId } = (await answer.json()) as { ingestionId: string };
      await running.waitFinished(1);
      expect(told).toEqual([{ id: ingestionId, status: 'loaded' }]);
    } finally {
      await running.stop();
    }
  });
});

describe('shutdown and restart', () => {
  it('hands a file still loading at shutdown back to the spool, and the next start loads it once', async () => {
    await db.pool.query('CREATE SCHEMA handback');
    await db.pool.query('CREATE TABLE handback.items (file text NOT NULL, n integer NOT NULL)');
    // The load must still be running when the workers stop, however fast the machine and however long the
    // HTTP side takes to close: a transaction of the test's own holds the table, so the load waits on it,
    // and lets go only once the pool has aborted the files in flight.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE handback.items IN ACCESS EXCLUSIVE MODE');
    let abortedInFlight: () => void = () => undefined;
    const aborting = new Promise<void>((resolve) => {
      abortedInFlight = resolve;
    });
    const logger = createLogger({}, 'warn', (line) => {
      if (line.includes('files still loading at shutdown are handed back')) abortedInFlight();
    });
    const spoolDir = await mkdtemp(path.join(tmpdir(), 'inlet-handback-'));
    const config = appendConfig('handback.items');
    const first = await runService(db, config, { spoolDir, shutdownGraceMs: 0, logger });
    const big = csvFor('big.csv', 300_000);
    const answer = await api(first.service, '/v1/files/big.csv', { method: 'PUT', body: big });
    expect(answer.status).toBe(202);
    const { ingestionId } = (await answer.json()) as { ingestionId: string };
    try {
      await waitFor(async () => {
        const { rows } = await holder.query<{ waiting: boolean }>(
          `SELECT count(*) > 0 AS waiting FROM pg_locks
            WHERE NOT granted AND relation = 'handback.items'::regclass`,
        );
        return rows[0]?.waiting ? true : undefined;
      }, 'the load to wait on the table');
      expect(await entriesIn(spoolDir, 'processing')).toEqual([ingestionId]);
      const stopped = first.stop();
      await aborting;
      await holder.query('ROLLBACK');
      await stopped;
    } finally {
      await holder.end();
    }
    expect(await entriesIn(spoolDir, 'incoming')).toEqual([ingestionId]);
    const between = await db.pool.query('SELECT count(*)::int AS n FROM handback.items');
    expect(between.rows[0].n).toBe(0);
    const status = await db.pool.query('SELECT status FROM inlet.ingestions WHERE id = $1', [ingestionId]);
    expect(status.rows).toEqual([{ status: 'queued' }]);

    const second = await runService(db, config, { spoolDir });
    try {
      await second.waitFinished(1, 60_000);
      const after = await db.pool.query('SELECT count(*)::int AS n FROM handback.items');
      expect(after.rows[0].n).toBe(300_000);
      const loaded = await db.pool.query('SELECT status FROM inlet.ingestions WHERE id = $1', [ingestionId]);
      expect(loaded.rows).toEqual([{ status: 'loaded' }]);
    } finally {
      await second.stop();
      await rm(spoolDir, { recursive: true, force: true });
    }
  });

  it('resumes what a crash left in processing/, and one that had committed stays loaded once', async () => {
    await db.pool.query('CREATE SCHEMA resume');
    const spoolDir = await mkdtemp(path.join(tmpdir(), 'inlet-resume-'));
    const config = appendConfig('resume.items');
    const first = await runService(db, config, { spoolDir });
    const committed = await api(first.service, '/v1/files/done-before-crash.csv', {
      method: 'PUT',
      body: csvFor('done-before-crash.csv', 3),
    });
    const committedId = ((await committed.json()) as { ingestionId: string }).ingestionId;
    await first.waitFinished(1);
    await first.stop();
    // A crash after COMMIT but before the move to done/ leaves the entry in processing/; another one was
    // claimed and never started.
    await rename(path.join(spoolDir, 'done', committedId), path.join(spoolDir, 'processing', committedId));
    const spool = new Spool(spoolDir, { minFreeBytes: 0 });
    await spool.open();
    const pending = await spool.accept(Readable.from([Buffer.from(csvFor('never-started.csv', 4))]), {
      name: 'never-started.csv',
      maxBytes: 1e6,
      meta: { pipeline: 'items' },
    });
    expect((await spool.claim())?.id).toBe(pending.id);

    const second = await runService(db, config, { spoolDir });
    try {
      await second.waitFinished(2);
      const counts = await db.pool.query(
        'SELECT file, count(*)::int AS n FROM resume.items GROUP BY file ORDER BY file',
      );
      expect(counts.rows).toEqual([
        { file: 'done-before-crash.csv', n: 3 },
        { file: 'never-started.csv', n: 4 },
      ]);
      const ledger = await db.pool.query(
        'SELECT id, status FROM inlet.ingestions WHERE id = ANY($1) ORDER BY id',
        [[committedId, pending.id]],
      );
      expect(ledger.rows.map((r) => r.status)).toEqual(['loaded', 'loaded']);
      expect(second.finished.map((f) => f.result.status).sort()).toEqual(['loaded', 'loaded']);
    } finally {
      await second.stop();
      await rm(spoolDir, { recursive: true, force: true });
    }
  });
});

describe('files that fail', () => {
  it('tries a failing file again with backoff, then moves it to failed/ and says so in the ledger', async () => {
    // The table does not exist and the pipeline may not create it: the environment's fault, not the file's.
    const config = appendConfig(`missing_${randomUUID().slice(0, 8)}.items`, { createTable: false });
    const running = await runService(db, config, {
      worker: { pollMs: 20, backoffMs: 20, maxBackoffMs: 50, maxAttempts: 3 },
    });
    try {
      const answer = await api(running.service, '/v1/files/orphan.csv', {
        method: 'PUT',
        body: csvFor('orphan.csv', 2),
      });
      const { ingestionId } = (await answer.json()) as { ingestionId: string };
      await running.waitFinished(1);
      expect(running.finished[0]?.result.status).toBe('failed');
      expect(await entriesIn(running.spoolDir, 'failed')).toEqual([ingestionId]);
      const status = await api(running.service, `/v1/ingestions/${ingestionId}`);
      const body = (await status.json()) as { status: string; error?: { message: string } };
      expect(body.status).toBe('failed');
      expect(body.error?.message).toMatch(/does not exist/);
    } finally {
      await running.stop();
    }
  });
});

const isRoot = process.getuid?.() === 0;

// A real full disk: a 2 MiB tmpfs holds the spool. Mounting needs root, as the CI runs.
describe.skipIf(!isRoot)('F6: the spool disk is full', () => {
  let mountPoint: string;

  beforeAll(async () => {
    mountPoint = await mkdtemp(path.join(tmpdir(), 'inlet-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint]);
  });

  afterAll(async () => {
    if (mountPoint) {
      execFileSync('umount', [mountPoint]);
      await rm(mountPoint, { recursive: true, force: true });
    }
  });

  it('answers 503 when a write hits ENOSPC, leaves nothing behind, and accepts again once there is room', async () => {
    await db.pool.query('CREATE SCHEMA f6');
    const spoolDir = path.join(mountPoint, 'spool');
    await mkdir(spoolDir);
    const running = await runService(db, appendConfig('f6.items'), { spoolDir, minFreeBytes: 0 });
    try {
      const tooBig = csvFor('too-big.csv', 400_000);
      expect(tooBig.length).toBeGreaterThan(4 * 1024 * 1024);
      const answer = await api(running.service, '/v1/files/too-big.csv', { method: 'PUT', body: tooBig });
      expect(answer.status).toBe(503);
      expect(await answer.json()).toEqual({
        error: { code: 'spool_full', message: expect.stringMatching(/space/) },
      });
      for (const state of ['tmp', 'incoming', 'processing', 'done']) {
        expect(await entriesIn(spoolDir, state)).toEqual([]);
      }

      const small = await api(running.service, '/v1/files/small.csv', {
        method: 'PUT',
        body: csvFor('small.csv', 2),
      });
      expect(small.status).toBe(202);
      await running.waitFinished(1);
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM f6.items');
      expect(rows[0].n).toBe(2);
    } finally {
      await running.stop();
    }
  });

  it('refuses uploads up front with 503 once free space is under the guard', async () => {
    const spoolDir = path.join(mountPoint, 'guarded');
    await mkdir(spoolDir);
    const running = await runService(db, appendConfig('f6.items'), {
      spoolDir,
      minFreeBytes: 64 * 1024 * 1024,
    });
    try {
      const answer = await api(running.service, '/v1/files/any.csv', {
        method: 'PUT',
        body: csvFor('any.csv', 1),
      });
      expect(answer.status).toBe(503);
      const body = (await answer.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('spool_full');
      expect(body.error.message).toMatch(/below the minimum/);
      expect(await entriesIn(spoolDir, 'tmp')).toEqual([]);
      expect(await entriesIn(spoolDir, 'incoming')).toEqual([]);
    } finally {
      await running.stop();
    }
  });
});
