import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/db/connect.js';
import { pgCtl } from '../../../src/db/embedded/pg-ctl.js';
import { startEmbeddedPostgres } from '../../../src/db/embedded.js';
import { migrate } from '../../../src/db/migrate.js';
import { createTargetTable } from '../../../src/engine/create-table.js';
import { ingest } from '../../../src/engine/ingest.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { createTestDatabase } from '../../harness/db.js';
import { testPipeline } from '../../harness/pipelines.js';
import { memorySource } from '../../harness/sources.js';

const COLUMNS = [
  { name: 'file_no', type: 'integer', nullable: false },
  { name: 'row_no', type: 'integer', nullable: false },
  { name: 'payload', type: 'text' },
];

function fileContent(fileNo: number, rows: number): string {
  const lines = ['file_no,row_no,payload'];
  for (let i = 0; i < rows; i++) lines.push(`${fileNo},${i},"payload ${fileNo}/${i} ${'x'.repeat(40)}"`);
  return `${lines.join('\n')}\n`;
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'inlet-faults-'));
  await chmod(work, 0o755);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function waitForCopy(pool: pg.Pool, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'inlet-fault-child' AND query LIKE 'COPY%' AND state = 'active'`,
    );
    if (rows[0].n > 0) return true;
    await sleep(5);
  }
  return false;
}

function startChild(url: string, table: string, files: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'test/harness/ingest-child.ts', url, table, ...files], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, INLET_LOG_LEVEL: 'silent' },
  });
}

describe('faults', () => {
  it('F1: kill -9 mid-COPY, repeatedly, then a clean run: every file exactly once, no leftovers', async () => {
    const db = await createTestDatabase();
    try {
      const pipeline = testPipeline({
        name: 'fault-f1',
        table: { schema: 'public', name: 'f1' },
        columns: COLUMNS,
      });
      await createTargetTable(db.pool, pipeline);
      const files: string[] = [];
      for (let f = 0; f < 4; f++) {
        const path = join(work, `f1-${f}.csv`);
        await writeFile(path, fileContent(f, 60_000));
        files.push(path);
      }
      let killedMidCopy = 0;
      for (let round = 0; round < 4; round++) {
        const child = startChild(db.url, 'f1', files);
        const exited = once(child, 'exit');
        if (await waitForCopy(db.pool, 20_000)) {
          await sleep(round * 15);
          child.kill('SIGKILL');
          killedMidCopy++;
        }
        await exited;
      }
      expect(killedMidCopy).toBeGreaterThanOrEqual(3);
      const clean = startChild(db.url, 'f1', files);
      let output = '';
      clean.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const [code] = await once(clean, 'exit');
      expect(code, output).toBe(0);
      expect(output).toContain('done');
      const counts = await db.pool.query(
        'SELECT file_no, count(*)::int AS n, count(DISTINCT row_no)::int AS distinct_rows FROM f1 GROUP BY file_no ORDER BY file_no',
      );
      expect(counts.rows).toEqual(
        [0, 1, 2, 3].map((f) => ({ file_no: f, n: 60_000, distinct_rows: 60_000 })),
      );
      const ledger = await db.pool.query(
        `SELECT source_uri, status FROM inlet.ingestions WHERE pipeline = 'fault-f1' ORDER BY source_uri`,
      );
      expect(ledger.rows.filter((r) => r.status === 'loaded')).toHaveLength(4);
      expect(ledger.rows.filter((r) => r.status === 'processing')).toHaveLength(0);
      const temp = await db.pool.query(
        `SELECT count(*)::int AS n FROM pg_class WHERE relname = 'inlet_staging'`,
      );
      expect(temp.rows[0].n).toBe(0);
    } finally {
      await db.drop();
    }
  }, 120_000);

  it('F2: the same files delivered 1-5 times, shuffled, to several workers at once equal one delivery', async () => {
    const db = await createTestDatabase({ max: 8 });
    try {
      const pipeline = testPipeline({
        name: 'fault-f2',
        table: { schema: 'public', name: 'f2' },
        mode: 'upsert',
        key: ['file_no', 'row_no'],
        columns: COLUMNS,
      });
      await createTargetTable(db.pool, pipeline);
      const deliveries: number[] = [];
      let seed = 7;
      const random = () => {
        seed = (seed * 48271) % 2147483647;
        return seed / 2147483647;
      };
      for (let f = 0; f < 8; f++) for (let n = 1 + Math.floor(random() * 5); n > 0; n--) deliveries.push(f);
      deliveries.sort(() => random() - 0.5);
      const workers = [
        createPool(db.url, { max: 2 }),
        createPool(db.url, { max: 2 }),
        createPool(db.url, { max: 2 }),
      ];
      try {
        const results = await Promise.all(
          deliveries.map((f, i) =>
            ingest(memorySource(`f2-${f}.csv`, fileContent(f, 2_000), { chunkSize: 8192 }), pipeline, {
              pool: workers[i % workers.length] as pg.Pool,
            }),
          ),
        );
        expect(results.filter((r) => r.status === 'loaded')).toHaveLength(8);
        expect(results.filter((r) => r.status !== 'loaded').every((r) => r.status === 'duplicate')).toBe(
          true,
        );
      } finally {
        await Promise.all(workers.map((w) => w.end()));
      }
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM f2');
      expect(rows[0].n).toBe(16_000);
      const ledger = await db.pool.query(
        `SELECT count(*)::int AS n FROM inlet.ingestions WHERE pipeline = 'fault-f2'`,
      );
      expect(ledger.rows[0].n).toBe(8);
    } finally {
      await db.drop();
    }
  }, 60_000);

  it('F4: PostgreSQL stopped immediately mid-transaction, then started: nothing partial, the file loads once', async () => {
    const server = await startEmbeddedPostgres({ dataDir: join(work, 'f4'), ephemeral: true });
    const pool = createPool(server.url, { max: 2 });
    const observer = createPool(server.url, { max: 1 });
    pool.on('error', () => {});
    observer.on('error', () => {});
    try {
      await migrate(pool);
      const pipeline = testPipeline({
        name: 'fault-f4',
        table: { schema: 'public', name: 'f4' },
        columns: COLUMNS,
      });
      await createTargetTable(pool, pipeline);
      const running = ingest(
        memorySource('f4.csv', fileContent(1, 200_000), { chunkSize: 256 * 1024, chunkDelayMs: 40 }),
        pipeline,
        {
          pool,
          retry: { attempts: 40, baseDelayMs: 100, maxDelayMs: 500 },
        },
      );
      const copying = await (async () => {
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline) {
          const { rows } = await observer.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY%' AND state = 'active'`,
          );
          if (rows[0].n > 0) return true;
          await sleep(5);
        }
        return false;
      })();
      expect(copying).toBe(true);
      await pgCtl(['stop', '-m', 'immediate', '-D', server.pgDataDir]);
      await sleep(500);
      const restarted = await startEmbeddedPostgres({ dataDir: join(work, 'f4'), ephemeral: true });
      const result = await running;
      expect(result.status).toBe('loaded');
      const check = createPool(restarted.url, { max: 1 });
      try {
        const { rows } = await check.query(
          'SELECT count(*)::int AS n, count(DISTINCT row_no)::int AS d FROM f4',
        );
        expect(rows[0]).toEqual({ n: 200_000, d: 200_000 });
        const ledger = await check.query(`SELECT status FROM inlet.ingestions WHERE pipeline = 'fault-f4'`);
        expect(ledger.rows).toEqual([{ status: 'loaded' }]);
      } finally {
        await check.end();
        await restarted.stop();
      }
    } finally {
      await pool.end().catch(() => {});
      await observer.end().catch(() => {});
      await server.stop().catch(() => {});
    }
  }, 120_000);
});

describe('too many connections', () => {
  it('retries 53300 too_many_connections with backoff, then loads the file once', async () => {
    const db = await createTestDatabase();
    try {
      const pipeline = testPipeline({
        name: 'fault-53300',
        table: { schema: 'public', name: 'f53300' },
        columns: COLUMNS,
      });
      let refusals = 2;
      // PostgreSQL's own answer when max_connections is reached, for the first two connection attempts.
      const crowded = new Proxy(db.pool, {
        get(target, property, receiver) {
          if (property !== 'connect') return Reflect.get(target, property, receiver);
          return async () => {
            if (refusals-- > 0) {
              throw Object.assign(new Error('sorry, too many clients already'), {
                code: '53300',
                severity: 'FATAL',
              });
            }
            return target.connect();
          };
        },
      });
      const warnings: string[] = [];
      const logger = {
        ...silentLogger,
        warn: (message: string) => warnings.push(message),
        child: () => logger,
      };
      const result = await ingest(memorySource('crowded.csv', fileContent(1, 10)), pipeline, {
        pool: crowded,
        logger,
        retry: { attempts: 5, baseDelayMs: 10, maxDelayMs: 50 },
      });
      expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 10 });
      expect(warnings).toEqual([
        'database unavailable; retrying the file',
        'database unavailable; retrying the file',
      ]);
    } finally {
      await db.drop();
    }
  });
});
