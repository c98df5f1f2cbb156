/**
 * The upload workers' thread (src/server/drain-host.ts, drain-thread.ts): a thread that dies, whatever it was
 * doing, is started again, hands back the files it had claimed, and every file the spool acknowledged is loaded
 * exactly once; the thread's logs, metrics and finished files reach the accepting side.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import type { IngestResult } from '../../../src/model/ingestion.js';
import { createLogger } from '../../../src/observability/logger.js';
import { DrainHost } from '../../../src/server/drain-host.js';
import { Spool, type SpoolEntry } from '../../../src/server/spool.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'inlet-drain-'));
});

afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const config = parseConfig(
  JSON.stringify({
    pipelines: [
      {
        name: 'parcels',
        match: ['**'],
        format: 'csv',
        table: 'public.drained',
        createTable: true,
        // Append: a file loaded twice would show its rows twice.
        mode: 'append',
        columns: [
          { name: 'file', type: 'text', nullable: false },
          { name: 'n', type: 'integer', nullable: false },
        ],
      },
    ],
  }),
  'drain thread test config',
);

const ROWS = 20;

function csvFor(file: string): string {
  let text = 'file,n\n';
  for (let n = 1; n <= ROWS; n++) text += `${file},${n}\n`;
  return text;
}

async function until(
  done: () => boolean,
  what: string,
  timeoutMs = 30_000,
  probe: () => Promise<void> = async () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (await probe(); !done(); await probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the drain thread', () => {
  it('is started again when it dies mid-load, and every acknowledged file is loaded once', async () => {
    const spoolDir = path.join(dir, 'spool');
    const lines: { message: string; component?: unknown }[] = [];
    const logger = createLogger({}, 'info', (line) => {
      lines.push(JSON.parse(line) as { message: string });
    });
    const finished = new Map<string, { entry: SpoolEntry; result: IngestResult }[]>();
    let busy = 0;
    let ingested = 0;
    let host: DrainHost | undefined;
    let finishedBeforeKill: number | undefined;
    let killed: Promise<void> | undefined;
    const spool = new Spool(spoolDir, {
      minFreeBytes: 0,
      handOff: (id, sidecar, content) => host?.handOff(id, sidecar, content),
    });
    await spool.open();
    host = new DrainHost({
      spoolDir,
      config,
      pool: db.pool,
      logger,
      metrics: {
        workerStarted: () => busy++,
        workerStopped: () => busy--,
        ingested: () => ingested++,
      },
      workers: { concurrency: 2, pollMs: 50, backoffMs: 50, maxBackoffMs: 200 },
      onFinished: (entry, result) => {
        finished.set(entry.id, [...(finished.get(entry.id) ?? []), { entry, result }]);
        // Killed while it loads: the first files are in, the rest claimed or queued.
        if (finishedBeforeKill === undefined) {
          finishedBeforeKill = finished.size;
          killed = host?.terminate();
        }
      },
    });
    await host.start();
    try {
      const files = 120;
      const ids: string[] = [];
      // Acknowledged as the service acknowledges a 202: once accept() resolves, the file is durable.
      await Promise.all(
        Array.from({ length: files }, async (_, i) => {
          const name = `file-${String(i).padStart(3, '0')}.csv`;
          const entry = await spool.accept(Readable.from([Buffer.from(csvFor(name))]), {
            name,
            maxBytes: 1024 * 1024,
            meta: { pipeline: 'parcels' },
          });
          ids.push(entry.id);
        }),
      );
      await until(() => killed !== undefined, 'the first finished file');
      await killed;
      // Finished: all in done/. A file that had reached done/ when the thread died is not reported again (as
      // after a crash of the whole process); the ledger and the table say what happened to each.
      let done: string[] = [];
      await until(
        () => done.length === files,
        `all ${files} files in done/`,
        30_000,
        async () => {
          done = await readdir(path.join(spoolDir, 'done'));
        },
      );

      const { rows } = await db.pool.query<{ file: string; count: string }>(
        'SELECT file, count(*) FROM public.drained GROUP BY file',
      );
      expect(rows).toHaveLength(files);
      expect(rows.every((row) => Number(row.count) === ROWS)).toBe(true);
      // The ledger has each file loaded once, under its spool id. A file whose transaction had committed when
      // the thread died was answered with that verdict the second time, and not loaded again.
      const ledger = await db.pool.query<{ id: string; status: string }>(
        'SELECT id::text, status FROM inlet.ingestions WHERE id = ANY($1::uuid[])',
        [ids],
      );
      expect(ledger.rows).toHaveLength(files);
      expect(ledger.rows.every((row) => row.status === 'loaded')).toBe(true);
      expect([...finished.values()].every((runs) => runs.every((f) => f.result.status === 'loaded'))).toBe(
        true,
      );
      expect(await readdir(path.join(spoolDir, 'processing'))).toEqual([]);
      expect(await readdir(path.join(spoolDir, 'incoming'))).toEqual([]);
      expect(done.sort()).toEqual([...ids].sort());
      expect(finishedBeforeKill).toBeLessThan(files);
      // It was started again, said so, and its workers' logs and counts reached this side.
      expect(lines.some((line) => line.message.startsWith('the drain thread ended'))).toBe(true);
      expect(lines.some((line) => line.message === 'file finished' && line.component === 'worker')).toBe(
        true,
      );
      expect(ingested).toBeGreaterThan(0);
      await until(() => busy === 0, 'no load in progress');
    } finally {
      await host.stop(5_000);
    }
  });
});
