/**
 * An upgrade over a spool written by a version before the one-file entry layout (`<state>/<id>/data` and
 * `meta.json`): the new server resumes what was queued or in progress there, loads each file exactly once
 * (one that had committed before the old server died ends as its recorded verdict, not a second load), and
 * accepts new uploads in the new layout beside them.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ingest } from '../../../src/engine/ingest.js';
import type { InletConfig, Pipeline } from '../../../src/model/contract.js';
import { newSpoolId, Spool } from '../../../src/server/spool.js';
import { uploadSource } from '../../../src/server/upload-source.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { writeDirectoryEntry } from '../../harness/spool-entries.js';
import { api, runService } from '../../harness/upload-service.js';

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query('CREATE SCHEMA upgrade');
  dir = await mkdtemp(path.join(tmpdir(), 'inlet-upgrade-'));
});

afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Append: a file loaded twice shows its rows twice. */
const config: InletConfig = parseConfig(
  JSON.stringify({
    pipelines: [
      {
        name: 'parcels',
        match: ['parcels/**'],
        format: 'csv',
        table: 'upgrade.parcels',
        mode: 'append',
        createTable: true,
        columns: [
          { name: 'file', type: 'text', nullable: false },
          { name: 'n', type: 'integer', nullable: false },
        ],
      },
    ],
  }),
  'spool upgrade config',
);

function csv(file: string, rows: number): Buffer {
  let text = 'file,n\n';
  for (let n = 1; n <= rows; n++) text += `${file},${n}\n`;
  return Buffer.from(text);
}

describe('a spool written in the directory layout of earlier versions', () => {
  it('is drained after the upgrade: every entry loaded once, new uploads beside them', async () => {
    const spoolDir = path.join(dir, 'spool');
    await new Spool(spoolDir, { minFreeBytes: 0 }).open();
    const old = (file: string, rows: number) => ({
      id: newSpoolId(),
      name: `parcels/${file}`,
      data: csv(file, rows),
      meta: { pipeline: 'parcels', tokenId: 'bootstrap' },
    });
    const queued = old('queued.csv', 3);
    const interrupted = old('interrupted.csv', 4);
    const committed = old('committed.csv', 5);
    await writeDirectoryEntry(spoolDir, 'incoming', queued);
    await writeDirectoryEntry(spoolDir, 'processing', interrupted);
    await writeDirectoryEntry(spoolDir, 'processing', committed);
    // The old server loaded this one and died before moving it to done/.
    const reader = new Spool(spoolDir, { minFreeBytes: 0 });
    const entry = await reader.read('processing', committed.id);
    if (entry === undefined) throw new Error('the earlier layout was not read');
    const first = await ingest(uploadSource(entry), config.pipelines[0] as Pipeline, {
      pool: db.pool,
      ingestionId: committed.id,
    });
    expect(first).toMatchObject({ status: 'loaded', rowsLoaded: 5 });

    const running = await runService(db, config, { spoolDir });
    try {
      await running.waitFinished(3);
      const fresh = await api(running.service, '/v1/files/parcels/new.csv', {
        method: 'PUT',
        body: csv('new.csv', 6),
      });
      expect(fresh.status).toBe(202);
      const { ingestionId } = (await fresh.json()) as { ingestionId: string };
      await running.waitFinished(4);

      const verdicts = new Map(running.finished.map((f) => [f.entry.id, f.result]));
      expect(verdicts.get(queued.id)).toMatchObject({ status: 'loaded', rowsLoaded: 3 });
      expect(verdicts.get(interrupted.id)).toMatchObject({ status: 'loaded', rowsLoaded: 4 });
      // Already decided: the recorded verdict, not a second load.
      expect(verdicts.get(committed.id)).toMatchObject({ status: 'loaded', rowsLoaded: 5 });
      expect(verdicts.get(ingestionId)).toMatchObject({ status: 'loaded', rowsLoaded: 6 });

      const { rows } = await db.pool.query<{ file: string; n: number }>(
        'SELECT file, count(*)::int AS n FROM upgrade.parcels GROUP BY file ORDER BY file',
      );
      expect(rows).toEqual([
        { file: 'committed.csv', n: 5 },
        { file: 'interrupted.csv', n: 4 },
        { file: 'new.csv', n: 6 },
        { file: 'queued.csv', n: 3 },
      ]);
      const ledger = await db.pool.query<{ id: string; status: string }>(
        'SELECT id::text, status FROM inlet.ingestions WHERE id = ANY($1) ORDER BY id',
        [[queued.id, interrupted.id, committed.id, ingestionId]],
      );
      expect(ledger.rows.map((r) => r.status)).toEqual(['loaded', 'loaded', 'loaded', 'loaded']);

      // Each entry in done/ in the layout it was written in.
      expect((await readdir(path.join(spoolDir, 'done'))).sort()).toEqual(
        [queued.id, interrupted.id, committed.id, ingestionId].sort(),
      );
      for (const id of [queued.id, interrupted.id, committed.id]) {
        expect((await stat(path.join(spoolDir, 'done', id))).isDirectory()).toBe(true);
      }
      expect((await stat(path.join(spoolDir, 'done', ingestionId))).isFile()).toBe(true);
    } finally {
      await running.stop();
    }
  });
});
