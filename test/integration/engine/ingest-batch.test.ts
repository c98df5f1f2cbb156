/**
 * Several small files in one transaction (src/engine/ingest-batch.ts): each file keeps its own identity,
 * ledger row and verdict; one bad file is undone alone; a batch that cannot commit leaves nothing and each
 * file is then loaded alone, once.
 */
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type BatchFile, ingestBatch } from '../../../src/engine/ingest-batch.js';
import type { Pipeline } from '../../../src/model/contract.js';
import type { ObjectSource } from '../../../src/model/ingestion.js';
import { spyStatements } from '../../harness/db.js';
import { engineHarness } from '../../harness/engine.js';
import { memorySource } from '../../harness/sources.js';

const { state, freshPipeline, run, rows } = engineHarness('batch');

const COLUMNS = [
  { name: 'file', type: 'text', nullable: false },
  { name: 'n', type: 'integer', nullable: false },
];

function csv(file: string, rowCount: number, first = 1): string {
  let text = 'file,n\n';
  for (let n = first; n < first + rowCount; n++) text += `${file},${n}\n`;
  return text;
}

function files(...sources: ObjectSource[]): BatchFile[] {
  // In id order, as the spool hands them out.
  return sources
    .map((source) => ({ source, ingestionId: randomUUID() }))
    .sort((a, b) => (a.ingestionId < b.ingestionId ? -1 : 1));
}

function batch(batchFiles: readonly BatchFile[], pipeline: Pipeline, pool: pg.Pool = state.pool) {
  return ingestBatch(batchFiles, pipeline, {
    pool,
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
  });
}

async function countsByFile(pipeline: Pipeline): Promise<Record<string, number>> {
  const counted: Record<string, number> = {};
  for (const row of await rows(pipeline))
    counted[row.file as string] = (counted[row.file as string] ?? 0) + 1;
  return counted;
}

async function ledgerStatus(ids: readonly string[]): Promise<string[]> {
  const { rows: found } = await state.pool.query<{ id: string; status: string }>(
    'SELECT id::text, status FROM inlet.ingestions WHERE id = ANY($1)',
    [ids],
  );
  const byId = new Map(found.map((row) => [row.id, row.status]));
  return ids.map((id) => byId.get(id) ?? 'none');
}

describe('ingestBatch', () => {
  it('loads every file with its own ledger row and verdict, in one transaction', async () => {
    const pipeline = await freshPipeline({ mode: 'append', columns: COLUMNS });
    const declared = (name: string, text: string) =>
      memorySource(name, text, { sha256: createHash('sha256').update(text).digest('hex') });
    const batchFiles = files(
      ...Array.from({ length: 8 }, (_, i) => declared(`f${i}.csv`, csv(`f${i}`, 3 + i))),
    );
    const statements: string[] = [];
    const results = await batch(batchFiles, pipeline, spyStatements(state.pool, statements));

    expect(results.map((r) => r.status)).toEqual(Array(8).fill('loaded'));
    expect(results.map((r) => r.ingestionId)).toEqual(batchFiles.map((f) => f.ingestionId));
    expect(results.map((r) => r.rowsLoaded)).toEqual(batchFiles.map((f) => Number(f.source.name[1]) + 3));
    expect(await ledgerStatus(batchFiles.map((f) => f.ingestionId))).toEqual(Array(8).fill('loaded'));
    expect(await countsByFile(pipeline)).toEqual(
      Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}`, 3 + i])),
    );
    // One transaction for the batch, and per file a savepoint and its COPY (the content hash declared, as the
    // spool declares it, is asked about with the others before reading): 8 files alone were 5 statements each.
    const ours = statements.slice(statements.findIndex((s) => s.startsWith('BEGIN; SELECT set_config')));
    expect(ours.filter((s) => s === 'COMMIT')).toHaveLength(1);
    expect(ours).toHaveLength(2 * 8 + 4);
  });

  it('undoes a file PostgreSQL refuses alone: its neighbours commit, it ends failed on its own', async () => {
    const pipeline = await freshPipeline({ mode: 'append', columns: COLUMNS });
    // A rule the contract does not know: only PostgreSQL refuses the file, at its COPY.
    await state.pool.query(
      `ALTER TABLE "${pipeline.table.schema}"."${pipeline.table.name}" ADD CONSTRAINT small CHECK (n < 100)`,
    );
    const batchFiles = files(
      memorySource('a.csv', csv('a', 5)),
      memorySource('bad.csv', csv('bad', 3, 99)),
      memorySource('c.csv', csv('c', 4)),
      memorySource('d.csv', csv('d', 2)),
    );
    const results = await batch(batchFiles, pipeline);
    const byName = new Map(results.map((r) => [r.source.split('/').pop(), r]));

    expect(byName.get('bad.csv')?.status).toBe('failed');
    expect(byName.get('bad.csv')?.error?.code).toBe('database_refused');
    for (const name of ['a.csv', 'c.csv', 'd.csv']) expect(byName.get(name)?.status, name).toBe('loaded');
    expect(await countsByFile(pipeline)).toEqual({ a: 5, c: 4, d: 2 });
    const bad = batchFiles.find((f) => f.source.name === 'bad.csv') as BatchFile;
    expect(await ledgerStatus([bad.ingestionId])).toEqual(['failed']);
  });

  it('gives a rejected file, a duplicate and a repeated name their own verdicts beside loaded files', async () => {
    const pipeline = await freshPipeline({ mode: 'append', columns: COLUMNS });
    const earlier = memorySource('seen.csv', csv('seen', 2));
    expect((await run(earlier, pipeline)).status).toBe('loaded');
    const again = memorySource('twice.csv', csv('twice', 3));
    const batchFiles = files(
      memorySource('seen.csv', csv('seen', 2)),
      memorySource('rejected.csv', 'file,n\nrejected,not-a-number\n'),
      memorySource('ok.csv', csv('ok', 4)),
      again,
      memorySource('twice.csv', csv('twice', 3)),
    );
    const results = await batch(batchFiles, pipeline);
    const statuses = results.map((r) => `${r.source.split('/').pop()} ${r.status}`).sort();

    // The second twice.csv waits for the first (same name) and finds it loaded.
    expect(statuses).toEqual([
      'ok.csv loaded',
      'rejected.csv rejected',
      'seen.csv duplicate',
      'twice.csv duplicate',
      'twice.csv loaded',
    ]);
    expect(await countsByFile(pipeline)).toEqual({ seen: 2, ok: 4, twice: 3 });
    expect(await ledgerStatus(batchFiles.map((f) => f.ingestionId))).toEqual(results.map((r) => r.status));
  });

  it('answers a batch handed over again (a worker resuming after a crash past COMMIT) with the verdicts recorded', async () => {
    const pipeline = await freshPipeline({ mode: 'append', columns: COLUMNS });
    const batchFiles = files(
      ...Array.from({ length: 4 }, (_, i) => memorySource(`r${i}.csv`, csv(`r${i}`, 2))),
    );
    const first = await batch(batchFiles, pipeline);
    const second = await batch(batchFiles, pipeline);

    expect(first.map((r) => r.status)).toEqual(Array(4).fill('loaded'));
    expect(second.map((r) => r.status)).toEqual(Array(4).fill('loaded'));
    expect(second.map((r) => r.ingestionId)).toEqual(first.map((r) => r.ingestionId));
    expect(await countsByFile(pipeline)).toEqual({ r0: 2, r1: 2, r2: 2, r3: 2 });
  });

  it('keeps nothing of a batch whose connection is lost mid-way, and loads each file alone once', async () => {
    const pipeline = await freshPipeline({ mode: 'append', columns: COLUMNS });
    let killed = 0;
    const killer = (name: string): ObjectSource => {
      const source = memorySource(`${name}.csv`, csv(name, 3));
      return {
        ...source,
        open: async () => {
          // The batch's connection dies after two files of it are loaded (uncommitted); once.
          if (killed++ === 0) {
            await state.pool.query(
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = current_database() AND query LIKE '%SAVEPOINT inlet_file%'
                  AND pid <> pg_backend_pid()`,
            );
          }
          return source.open();
        },
      };
    };
    const batchFiles = files(memorySource('k0.csv', csv('k0', 3)), memorySource('k1.csv', csv('k1', 3)));
    const victim: BatchFile = { source: killer('k2'), ingestionId: `ffffffff${randomUUID().slice(8)}` };
    const results = await batch([...batchFiles, victim], pipeline);

    expect(killed).toBeGreaterThanOrEqual(2);
    expect(results.map((r) => r.status)).toEqual(['loaded', 'loaded', 'loaded']);
    expect(await countsByFile(pipeline)).toEqual({ k0: 3, k1: 3, k2: 3 });
    expect(await ledgerStatus([...batchFiles, victim].map((f) => f.ingestionId))).toEqual([
      'loaded',
      'loaded',
      'loaded',
    ]);
  });
});
