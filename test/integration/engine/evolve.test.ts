import { describe, expect, it } from 'vitest';
import { readContractVersions } from '../../../src/engine/contract-versions.js';
import { evolveLockKey } from '../../../src/engine/evolve-contract.js';
import { batchable, ingestBatch } from '../../../src/engine/ingest-batch.js';
import type { Pipeline } from '../../../src/model/contract.js';
import type { IngestResult } from '../../../src/model/ingestion.js';
import { engineHarness } from '../../harness/engine.js';
import { flat, parquetFile } from '../../harness/parquet.js';
import { memorySource } from '../../harness/sources.js';
import { cell, handmadeXlsx } from '../../harness/xlsx.js';

const h = engineHarness('ev');

const COLUMNS = [
  { name: 'id', type: 'bigint', nullable: false },
  { name: 'amount', type: 'numeric(12,2)' },
  { name: 'note', type: 'text' },
];

/** The table's columns and their types, as PostgreSQL has them. */
async function tableColumns(pipeline: Pipeline): Promise<Record<string, string>> {
  const { rows } = await h.state.pool.query<{ name: string; type: string; not_null: boolean }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type, attnotnull AS not_null
       FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [`"${pipeline.table.schema}"."${pipeline.table.name}"`],
  );
  return Object.fromEntries(rows.map((row) => [row.name, `${row.type}${row.not_null ? ' not null' : ''}`]));
}

const table = (pipeline: Pipeline) => `"${pipeline.table.schema}"."${pipeline.table.name}"`;

describe('onDrift: evolve', () => {
  it('adds a column a CSV file brings (append), records the version and its DDL, and fills what later files lack', async () => {
    const pipeline = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    const first = await h.run(
      memorySource('a.csv', 'id,amount,note,Discount Rate\n1,2.50,x,0.15\n2,3.00,y,\n'),
      pipeline,
    );
    const ddl = `ALTER TABLE ${table(pipeline)} ADD COLUMN "discount_rate" numeric`;
    const change = {
      version: 2,
      columns: [{ name: 'discount_rate', type: 'numeric', source: 'Discount Rate' }],
      ddl,
    };
    expect(first).toMatchObject({ status: 'loaded', rowsLoaded: 2, contractChange: change });
    expect(await tableColumns(pipeline)).toEqual({
      id: 'bigint not null',
      amount: 'numeric(12,2)',
      note: 'text',
      discount_rate: 'numeric',
    });
    expect((await h.ledger(first.ingestionId))?.details).toMatchObject({ contractChange: change });
    expect(await readContractVersions(h.state.pool, pipeline.name)).toEqual([
      {
        ...change,
        table: `${pipeline.table.schema}.${pipeline.table.name}`,
        ingestionId: first.ingestionId,
        source: 'memory://test/a.csv',
        createdAt: expect.any(Date),
      },
    ]);

    // Reordered, without note and without the evolved column: both load as NULL, and nothing changes.
    const second = await h.run(memorySource('b.csv', 'amount,id\n4.00,3\n'), pipeline);
    expect(second).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    expect(second).not.toHaveProperty('contractChange');
    expect((await h.ledger(second.ingestionId))?.details).toMatchObject({
      drift: { missing: ['note', 'Discount Rate'], unexpected: [], action: 'ignored' },
    });
    // The evolved column read by its source name again, reordered, beside a second new one.
    const third = await h.run(
      memorySource('c.csv', 'Discount Rate,id,shipped_on\n0.05,4,2026-12-01\n'),
      pipeline,
    );
    expect(third).toMatchObject({
      status: 'loaded',
      contractChange: {
        version: 3,
        columns: [{ name: 'shipped_on', type: 'date', source: 'shipped_on' }],
        ddl: `ALTER TABLE ${table(pipeline)} ADD COLUMN "shipped_on" date`,
      },
    });
    expect(await h.rows(pipeline, 'id')).toEqual([
      { id: '1', amount: '2.50', note: 'x', discount_rate: '0.15', shipped_on: null },
      { id: '2', amount: '3.00', note: 'y', discount_rate: null, shipped_on: null },
      { id: '3', amount: '4.00', note: null, discount_rate: null, shipped_on: null },
      { id: '4', amount: null, note: null, discount_rate: '0.05', shipped_on: expect.any(Date) },
    ]);
    expect((await readContractVersions(h.state.pool, pipeline.name)).map((v) => v.version)).toEqual([2, 3]);
  });

  it('adds the column with the type of each format: NDJSON, XLSX, and Parquet with its own declared type', async () => {
    const ndjson = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    const fromJson = await h.run(
      memorySource('a.ndjson', '{"id":1,"qty":3,"tags":["a"]}\n{"id":2,"qty":4}\n'),
      ndjson,
    );
    expect(fromJson.contractChange?.columns).toEqual([
      { name: 'qty', type: 'bigint', source: 'qty' },
      { name: 'tags', type: 'jsonb', source: 'tags' },
    ]);
    expect(await h.rows(ndjson, 'id')).toEqual([
      { id: '1', amount: null, note: null, qty: '3', tags: ['a'] },
      { id: '2', amount: null, note: null, qty: '4', tags: null },
    ]);

    const xlsx = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    const workbook = handmadeXlsx({
      sheets: [
        {
          name: 'Sheet1',
          rows:
            `<row r="1">${cell.str('A1', 'id')}${cell.str('B1', 'region')}</row>` +
            `<row r="2">${cell.num('A2', 1)}${cell.str('B2', 'north')}</row>`,
        },
      ],
    });
    const fromXlsx = await h.run(memorySource('a.xlsx', workbook), xlsx);
    expect(fromXlsx.contractChange?.columns).toEqual([{ name: 'region', type: 'text', source: 'region' }]);
    expect(await h.rows(xlsx)).toEqual([{ id: '1', amount: null, note: null, region: 'north' }]);

    const parquet = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    // Values that would infer as smallint from text: the file's INT64 is what decides.
    const file = parquetFile({
      id: flat('id', { type: 'INT64' }, [1n, 2n], false),
      units: flat('units', { type: 'INT64' }, [5n, null]),
    });
    const fromParquet = await h.run(memorySource('a.parquet', file), parquet);
    expect(fromParquet.contractChange?.columns).toEqual([{ name: 'units', type: 'bigint', source: 'units' }]);
    expect(await tableColumns(parquet)).toMatchObject({ units: 'bigint' });
    expect(await h.rows(parquet)).toEqual([
      { id: '1', amount: null, note: null, units: '5' },
      { id: '2', amount: null, note: null, units: null },
    ]);
  });

  it('evolves an upsert pipeline: the new column is merged, and a later file without it sets it to NULL', async () => {
    const pipeline = await h.freshPipeline({
      onDrift: 'evolve',
      mode: 'upsert',
      key: ['id'],
      columns: COLUMNS,
    });
    const first = await h.run(
      memorySource('a.csv', 'status,id,amount\nopen,1,1.00\nshut,2,2.00\n'),
      pipeline,
    );
    expect(first).toMatchObject({ status: 'loaded', rowsLoaded: 2, contractChange: { version: 2 } });
    const second = await h.run(memorySource('b.csv', 'id,status\n2,reopened\n3,new\n'), pipeline);
    expect(second).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    expect(second).not.toHaveProperty('contractChange');
    expect(await h.rows(pipeline, 'id')).toEqual([
      { id: '1', amount: '1.00', note: null, status: 'open' },
      { id: '2', amount: null, note: null, status: 'reopened' },
      { id: '3', amount: null, note: null, status: 'new' },
    ]);
  });

  it('evolves a replace pipeline, keeping the evolved column when the next file replaces the rows', async () => {
    const pipeline = await h.freshPipeline({
      onDrift: 'evolve',
      mode: 'replace',
      replace: { minRows: 0, minRatio: 0 },
      columns: COLUMNS,
    });
    await h.run(memorySource('a.csv', 'id,colour\n1,red\n'), pipeline);
    const second = await h.run(memorySource('b.csv', 'id,colour\n2,blue\n'), pipeline);
    expect(second).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    expect(await h.rows(pipeline)).toEqual([{ id: '2', amount: null, note: null, colour: 'blue' }]);
  });

  it('leaves neither the column nor the version when the file is rejected (threshold) or only validated', async () => {
    const pipeline = await h.freshPipeline({
      onDrift: 'evolve',
      columns: COLUMNS,
      rejects: { maxRejects: 0 },
    });
    const rejected = await h.run(memorySource('a.csv', 'id,amount,extra\n1,x,7\n'), pipeline);
    expect(rejected).toMatchObject({ status: 'rejected', error: { code: 'too_many_rejects' } });
    expect(rejected).not.toHaveProperty('contractChange');
    const validated = await h.run(memorySource('b.csv', 'id,amount,extra\n1,1,7\n'), pipeline, {
      dryRun: true,
    });
    expect(validated).toMatchObject({ status: 'loaded', contractChange: { version: 2 } });
    expect(await tableColumns(pipeline)).toEqual({
      id: 'bigint not null',
      amount: 'numeric(12,2)',
      note: 'text',
    });
    expect(await readContractVersions(h.state.pool, pipeline.name)).toEqual([]);
    // The next file that loads gets version 2.
    const loaded = await h.run(memorySource('c.csv', 'id,extra\n1,7\n'), pipeline);
    expect(loaded).toMatchObject({ status: 'loaded', contractChange: { version: 2 } });
  });

  it('gives a column whose sampled values are not all of one type the type that holds them all, and rejects a later value that does not fit', async () => {
    const pipeline = await h.freshPipeline({
      onDrift: 'evolve',
      columns: COLUMNS,
      rejects: { maxRejects: 5 },
    });
    const mixed = await h.run(memorySource('m.csv', 'id,ref\n1,10\n2,A-7\n3,2.5\n'), pipeline);
    expect(mixed.contractChange?.columns).toEqual([{ name: 'ref', type: 'text', source: 'ref' }]);
    expect((await h.rows(pipeline)).map((row) => row.ref)).toEqual(['10', 'A-7', '2.5']);

    // 10,000 sampled rows of whole numbers, then one that is not: a rejected row, never a cast.
    const other = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS, rejects: { maxRejects: 5 } });
    const lines = Array.from({ length: 10_000 }, (_, i) => `${i + 1},${i % 100}`);
    const late = await h.run(memorySource('late.csv', `id,score\n${lines.join('\n')}\n10001,high\n`), other);
    expect(late).toMatchObject({
      status: 'loaded',
      rowsLoaded: 10_000,
      rowsRejected: 1,
      contractChange: { columns: [{ name: 'score', type: 'bigint', source: 'score' }] },
    });
    expect(late.rejects[0]).toMatchObject({ line: 10_002, column: 'score', value: 'high' });
  });

  it('keeps the parse format inference found (a day-first date), for this file and the next', async () => {
    const pipeline = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    const first = await h.run(memorySource('d.csv', 'id,due\n1,25/12/2026\n2,01/02/2027\n'), pipeline);
    expect(first.contractChange?.columns).toEqual([
      { name: 'due', type: 'date', source: 'due', format: 'DD/MM/YYYY' },
    ]);
    const next = await h.run(memorySource('e.csv', 'id,due\n3,03/04/2027\n'), pipeline);
    expect(next).toMatchObject({ status: 'loaded', rowsRejected: 0 });
    const { rows } = await h.state.pool.query(`SELECT id, due::text FROM ${table(pipeline)} ORDER BY id`);
    expect(rows).toEqual([
      { id: '1', due: '2026-12-25' },
      { id: '2', due: '2027-02-01' },
      { id: '3', due: '2027-04-03' },
    ]);
  });

  it('rejects the NDJSON rows with a value in a field first seen after the records it evolves from', async () => {
    const pipeline = await h.freshPipeline({
      onDrift: 'evolve',
      columns: COLUMNS,
      rejects: { maxRejects: 5 },
    });
    const records = Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ id: i + 1 }));
    const result = await h.run(
      memorySource(
        'late.ndjson',
        `${records.join('\n')}\n{"id":10001,"late":"x"}\n{"id":10002,"late":null}\n`,
      ),
      pipeline,
    );
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 10_001, rowsRejected: 1 });
    expect(result).not.toHaveProperty('contractChange');
    expect(result.rejects[0]?.reason).toMatch(
      /^has a value in field "late", which the contract does not name and the records the contract evolves from did not have \(onDrift: evolve adds a field found in a file's first 10,000 records\)/,
    );
  });

  it('rejects an empty file as any pipeline does', async () => {
    const pipeline = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    const empty = await h.run(memorySource('empty.csv', ''), pipeline);
    expect(empty).toMatchObject({
      status: 'rejected',
      error: { code: 'empty_file', message: 'The file is empty (0 bytes): there is nothing to load.' },
    });
  });

  it('still rejects a file that lacks a NOT NULL column without a default', async () => {
    const pipeline = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    const result = await h.run(memorySource('noid.csv', 'amount,extra\n1,2\n'), pipeline);
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'schema_drift' } });
    expect(await readContractVersions(h.state.pool, pipeline.name)).toEqual([]);
    expect(Object.keys(await tableColumns(pipeline))).toEqual(['id', 'amount', 'note']);
  });

  /** Starts both loads while the table's evolve lock is held here, so that both see the column as new. */
  async function concurrently(
    pipelines: readonly [Pipeline, Pipeline],
    files: readonly [string, string],
  ): Promise<IngestResult[]> {
    const holder = await h.state.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtext($1))', [evolveLockKey(pipelines[0])]);
      const loads = [
        h.run(memorySource('one.csv', files[0]), pipelines[0]),
        h.run(memorySource('two.csv', files[1]), pipelines[1]),
      ];
      for (let waited = 0; ; waited += 20) {
        const { rows } = await h.state.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        );
        if (rows[0]?.n === 2) break;
        if (waited > 10_000) throw new Error('the two loads never both waited on the evolve lock');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await holder.query('COMMIT');
      return await Promise.all(loads);
    } finally {
      holder.release();
    }
  }

  it('lets two concurrent files that add the same column both load, with one version', async () => {
    const pipeline = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    const results = await concurrently([pipeline, pipeline], ['id,channel\n1,web\n', 'id,channel\n2,shop\n']);
    expect(results.map((r) => r.status)).toEqual(['loaded', 'loaded']);
    expect(results.filter((r) => r.contractChange !== undefined)).toHaveLength(1);
    expect((await readContractVersions(h.state.pool, pipeline.name)).map((v) => v.version)).toEqual([2]);
    expect((await h.rows(pipeline)).map((row) => [row.id, row.channel])).toEqual([
      ['1', 'web'],
      ['2', 'shop'],
    ]);
  });

  it("lets two pipelines loading one table add the same column at once: the second uses the first one's", async () => {
    const one = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    const two = { ...one, name: `${one.name}_other` };
    const results = await concurrently([one, two], ['id,channel\n1,web\n', 'id,channel\n2,shop\n']);
    expect(results.map((r) => r.status)).toEqual(['loaded', 'loaded']);
    const ddl = results.map((r) => r.contractChange?.ddl);
    expect(ddl.filter((text) => text === '')).toHaveLength(1);
    expect(ddl.filter((text) => text?.startsWith('ALTER TABLE'))).toHaveLength(1);
    expect((await h.rows(one)).map((row) => [row.id, row.channel])).toEqual([
      ['1', 'web'],
      ['2', 'shop'],
    ]);
  });

  it('uses a table column of the same name and type (no DDL), and refuses one of another type', async () => {
    const pipeline = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    await h.state.pool.query(`ALTER TABLE ${table(pipeline)} ADD COLUMN region text, ADD COLUMN qty text`);
    const same = await h.run(memorySource('a.csv', 'id,region\n1,north\n'), pipeline);
    expect(same).toMatchObject({
      status: 'loaded',
      contractChange: { version: 2, columns: [{ name: 'region', type: 'text' }], ddl: '' },
    });
    const other = await h.run(memorySource('b.csv', 'id,qty\n1,3\n'), pipeline);
    expect(other).toMatchObject({ status: 'failed', error: { code: 'evolve_type_conflict' } });
    expect(other.error?.message).toContain('already has a column "qty" of type text');
    expect(await readContractVersions(h.state.pool, pipeline.name)).toHaveLength(1);
  });

  it('loads when the configuration later lists an evolved column itself, and fails a file when the table changed under an evolved column', async () => {
    const pipeline = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    await h.run(memorySource('a.csv', 'id,region\n1,north\n'), pipeline);
    const listed: Pipeline = {
      ...pipeline,
      columns: [
        ...pipeline.columns,
        { ...(pipeline.columns[2] as Pipeline['columns'][number]), name: 'region', source: 'region' },
      ],
    };
    const again = await h.run(memorySource('b.csv', 'id,region\n2,south\n'), listed);
    expect(again).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    expect(again).not.toHaveProperty('contractChange');

    await h.state.pool.query(`ALTER TABLE ${table(pipeline)} ALTER COLUMN region TYPE integer USING NULL`);
    const changed = await h.run(memorySource('c.csv', 'id\n3\n'), pipeline);
    expect(changed).toMatchObject({ status: 'failed', error: { code: 'table_mismatch' } });
    expect(changed.error?.message).toContain('"region"');
  });

  it('starts afresh when the pipeline is pointed at another table: the columns added to the old one stay its own', async () => {
    const pipeline = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    await h.run(memorySource('a.csv', 'id,region\n1,north\n'), pipeline);
    const moved = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    const elsewhere: Pipeline = { ...moved, name: pipeline.name };
    const loaded = await h.run(memorySource('b.csv', 'id\n2\n'), elsewhere);
    expect(loaded).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    const again = await h.run(memorySource('c.csv', 'id,region\n3,south\n'), elsewhere);
    expect(again).toMatchObject({ status: 'loaded', contractChange: { version: 3 } });
    expect(Object.keys(await tableColumns(moved))).toEqual(['id', 'amount', 'note', 'region']);
  });

  it('evolves a contract its first file decided (infer: true): version 1 inferred, version 2 added', async () => {
    const pipeline = await h.freshPipeline({ onDrift: 'evolve', infer: true });
    const first = await h.run(memorySource('a.csv', 'id,name\n1,ann\n'), pipeline);
    expect(first).toMatchObject({ status: 'loaded' });
    expect(first).not.toHaveProperty('contractChange');
    const second = await h.run(memorySource('b.csv', 'name,id,email\nbob,2,b@example.com\n'), pipeline);
    expect(second).toMatchObject({
      status: 'loaded',
      contractChange: { version: 2, columns: [{ name: 'email', type: 'text', source: 'email' }] },
    });
    expect(await h.rows(pipeline)).toEqual([
      { id: 1, name: 'ann', email: null },
      { id: 2, name: 'bob', email: 'b@example.com' },
    ]);
  });

  it('loads the files of an evolving pipeline one by one when the upload workers hand over a batch', async () => {
    const pipeline = await h.freshPipeline({ onDrift: 'evolve', columns: COLUMNS });
    expect(batchable(pipeline)).toBe(false);
    const results = await ingestBatch(
      [
        { source: memorySource('b1.csv', 'id,colour\n1,red\n'), ingestionId: crypto.randomUUID() },
        { source: memorySource('b2.csv', 'id,size\n2,XL\n'), ingestionId: crypto.randomUUID() },
      ],
      pipeline,
      { pool: h.state.pool, copyFormat: h.state.copyFormat },
    );
    expect(results.map((r) => [r.status, r.contractChange?.version])).toEqual([
      ['loaded', 2],
      ['loaded', 3],
    ]);
    expect(await h.rows(pipeline)).toEqual([
      { id: '1', amount: null, note: null, colour: 'red', size: null },
      { id: '2', amount: null, note: null, colour: null, size: 'XL' },
    ]);
  });
});
