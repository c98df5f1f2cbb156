/**
 * F5: the upload service is killed with SIGKILL right after answering 202, and while a worker has a batch
 * of small files half loaded in one transaction. Every acknowledged upload must reach the database once the
 * service is back, and none twice. This runs the real `inlet serve`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inletArgs, ROOT } from '../../harness/cli.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

const TOKEN = 'crash-test-token';
let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'inlet-f5-'));
  await writeFile(
    path.join(dir, 'inlet.config.yaml'),
    [
      'pipelines:',
      '  - name: parcels',
      '    match: ["**"]',
      '    format: csv',
      '    table: public.parcels',
      '    createTable: true',
      // Append: a file loaded twice would show its rows twice.
      '    mode: append',
      '    columns:',
      '      - { name: file, type: text, nullable: false }',
      '      - { name: n, type: integer, nullable: false }',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

async function startServe(): Promise<Server> {
  const child = spawn(process.execPath, inletArgs('serve', '--config', path.join(dir, 'inlet.config.yaml')), {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      INLET_PORT: '0',
      INLET_SFTP_PORT: '0',
      INLET_HOST: '127.0.0.1',
      INLET_API_TOKEN: TOKEN,
      INLET_SPOOL_DIR: path.join(dir, 'spool'),
      INLET_SPOOL_MIN_FREE_MB: '0',
      INLET_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`inlet serve did not start: ${stderr}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', () => reject(new Error(`inlet serve exited: ${stderr}`)));
  });
  return { child, url, exited };
}

function csvFor(file: string, rows: number): string {
  let text = 'file,n\n';
  for (let n = 1; n <= rows; n++) text += `${file},${n}\n`;
  return text;
}

describe('F5: kill -9 right after 202', () => {
  it('loads every acknowledged upload exactly once after a restart', async () => {
    const first = await startServe();
    const acknowledged = new Map<string, string>();
    let killed = false;
    // 40 uploads in flight; the process dies the moment the 15th 202 arrives, whatever else is under way.
    const uploads = Array.from({ length: 40 }, async (_, i) => {
      const name = `parcel-${String(i).padStart(2, '0')}.csv`;
      try {
        const answer = await fetch(`${first.url}/v1/files/${name}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${TOKEN}` },
          body: csvFor(name, 50 + i),
        });
        if (answer.status !== 202) return;
        const { ingestionId } = (await answer.json()) as { ingestionId: string };
        acknowledged.set(name, ingestionId);
        if (acknowledged.size >= 15 && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      } catch {
        // Cut off by the kill: never acknowledged, so the client would send it again.
      }
    });
    await Promise.all(uploads);
    if (!killed) first.child.kill('SIGKILL');
    await first.exited;
    expect(acknowledged.size).toBeGreaterThanOrEqual(15);

    const second = await startServe();
    try {
      const ids = [...acknowledged.values()];
      const deadline = Date.now() + 60_000;
      let settled = 0;
      while (settled < ids.length && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const { rows } = await db.pool.query(
          `SELECT count(*)::int AS n FROM inlet.ingestions WHERE id = ANY($1) AND status = 'loaded'`,
          [ids],
        );
        settled = rows[0].n;
      }
      expect(settled).toBe(ids.length);
      // Let the files that were stored but not acknowledged drain too, so the count below is final.
      const drained = Date.now() + 30_000;
      const pending = async () =>
        (await readdir(path.join(dir, 'spool', 'incoming'))).length +
        (await readdir(path.join(dir, 'spool', 'processing'))).length;
      while ((await pending()) > 0 && Date.now() < drained) await new Promise((r) => setTimeout(r, 100));
      expect(await pending()).toBe(0);
      const counts = await db.pool.query<{ file: string; n: number }>(
        'SELECT file, count(*)::int AS n FROM public.parcels GROUP BY file',
      );
      const byFile = new Map(counts.rows.map((row) => [row.file, row.n]));
      for (const name of acknowledged.keys()) {
        const index = Number(name.slice(7, 9));
        expect(byFile.get(name), name).toBe(50 + index);
      }
      // Unacknowledged files may have been stored or not, but never loaded twice.
      for (const [file, n] of byFile) expect(n, file).toBe(50 + Number(file.slice(7, 9)));
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });

  it('loads every file of a batch killed mid-transaction exactly once after a restart', async () => {
    // Each COPY takes 50 ms, so a batch of queued files stays open long enough to be killed in the middle.
    await db.pool.query(`
      CREATE TABLE IF NOT EXISTS public.parcels (file text NOT NULL, n integer NOT NULL);
      CREATE FUNCTION public.slow_copy() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(0.05); RETURN NULL; END $$;
      CREATE TRIGGER slow AFTER INSERT ON public.parcels FOR EACH STATEMENT EXECUTE FUNCTION public.slow_copy();`);
    const first = await startServe();
    const names = Array.from({ length: 40 }, (_, i) => `batch-${String(i).padStart(2, '0')}.csv`);
    const acknowledged = await Promise.all(
      names.map(async (name, i) => {
        const answer = await fetch(`${first.url}/v1/files/${name}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${TOKEN}` },
          body: csvFor(name, 10 + i),
        });
        expect(answer.status, name).toBe(202);
        return ((await answer.json()) as { ingestionId: string }).ingestionId;
      }),
    );
    // A batch holds the locks of all its files at once: kill the service while one does.
    const deadline = Date.now() + 20_000;
    let batchOpen = false;
    while (!batchOpen && Date.now() < deadline) {
      const { rows } = await db.pool.query(
        `SELECT pid FROM pg_locks
          WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          GROUP BY pid HAVING count(*) >= 3`,
      );
      batchOpen = rows.length > 0;
    }
    first.child.kill('SIGKILL');
    await first.exited;
    expect(batchOpen).toBe(true);
    const { rows: loadedBefore } = await db.pool.query(
      `SELECT count(*)::int AS n FROM inlet.ingestions WHERE id = ANY($1) AND status = 'loaded'`,
      [acknowledged],
    );
    expect(loadedBefore[0].n).toBeLessThan(names.length);

    await db.pool.query('DROP TRIGGER slow ON public.parcels');
    const second = await startServe();
    try {
      const settledBy = Date.now() + 60_000;
      let settled = 0;
      while (settled < acknowledged.length && Date.now() < settledBy) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const { rows } = await db.pool.query(
          `SELECT count(*)::int AS n FROM inlet.ingestions WHERE id = ANY($1) AND status = 'loaded'`,
          [acknowledged],
        );
        settled = rows[0].n;
      }
      expect(settled).toBe(acknowledged.length);
      const counts = await db.pool.query<{ file: string; n: number }>(
        `SELECT file, count(*)::int AS n FROM public.parcels WHERE file LIKE 'batch-%' GROUP BY file`,
      );
      expect(counts.rows).toHaveLength(names.length);
      for (const { file, n } of counts.rows) expect(n, file).toBe(10 + Number(file.slice(6, 8)));
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });
});
