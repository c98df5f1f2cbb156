import { beforeAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../../src/model/contract.js';
import { COPY_FORMATS, engineHarness } from '../../harness/engine.js';
import { flat, parquetFile } from '../../harness/parquet.js';
import { memorySource } from '../../harness/sources.js';

const h = engineHarness('inf');

async function contract(pipeline: Pipeline) {
  const { rows } = await h.state.pool.query(
    'SELECT target_table, columns, inferred_from FROM inlet.contracts WHERE pipeline = $1',
    [pipeline.name],
  );
  return rows;
}

async function tableColumns(pipeline: Pipeline) {
  const { rows } = await h.state.pool.query(
    `SELECT column_name, data_type, is_nullable FROM information_schema.columns
      WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [pipeline.table.schema, pipeline.table.name],
  );
  return rows.map((r) => [r.column_name, r.data_type, r.is_nullable]);
}

const FIRST = 'Order ID,Customer Name,amount,placed\n1,Ada,12.50,2024-01-31\n2,Grace,7,2024-02-01\n';

describe.each(COPY_FORMATS)('%s', (_label, format) => {
  beforeAll(() => {
    h.state.copyFormat = format;
  });

  it('infers the contract and creates the table from the first file; later files use the stored contract', async () => {
    const pipeline = await h.freshPipeline({ infer: true, mode: 'upsert', key: ['order_id'] });
    const first = await h.run(memorySource('first.csv', FIRST), pipeline);
    expect(first).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    expect(await tableColumns(pipeline)).toEqual([
      ['order_id', 'smallint', 'NO'],
      ['customer_name', 'text', 'YES'],
      ['amount', 'numeric', 'YES'],
      ['placed', 'date', 'YES'],
    ]);
    expect(await contract(pipeline)).toEqual([
      {
        target_table: `public.${pipeline.table.name}`,
        inferred_from: 'memory://test/first.csv',
        columns: [
          { name: 'order_id', type: 'smallint', source: 'Order ID', nullable: false },
          { name: 'customer_name', type: 'text', source: 'Customer Name', nullable: true },
          { name: 'amount', type: 'numeric(4,2)', source: 'amount', nullable: true },
          { name: 'placed', type: 'date', source: 'placed', nullable: true },
        ],
      },
    ]);

    // Same shape, columns reordered: loaded with the stored contract (order 2 updated by its key).
    const second = await h.run(
      memorySource('second.csv', 'placed,amount,Customer Name,Order ID\n2024-03-01,8.25,Grace H.,2\n'),
      pipeline,
    );
    expect(second).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    expect((await h.rows(pipeline)).map((r) => [r.order_id, r.customer_name, r.amount])).toEqual([
      [1, 'Ada', '12.50'],
      [2, 'Grace H.', '8.25'],
    ]);

    // Another shape is drift, not a new guess.
    const drifted = await h.run(
      memorySource('third.csv', 'Order ID,Customer Name,amt,placed\n3,x,1,2024-01-01\n'),
      pipeline,
    );
    expect(drifted).toMatchObject({ status: 'rejected', error: { code: 'schema_drift' } });
    expect(drifted.error?.message).toContain(
      'missing column "amount" (expected by the contract); unexpected column "amt"',
    );
    // A value the inferred type cannot hold is a reject like any other.
    const wide = await h.run(
      memorySource('wide.csv', 'Order ID,Customer Name,amount,placed\n70000,x,1,2024-01-01\n'),
      pipeline,
    );
    expect(wide).toMatchObject({ status: 'rejected', error: { code: 'too_many_rejects' } });
    expect(wide.rejects[0]).toMatchObject({
      column: 'order_id',
      reason: expect.stringMatching(/out of range for smallint/),
    });
  });

  it('stores nothing when the first file is rejected, so the next one infers again', async () => {
    const pipeline = await h.freshPipeline({ infer: true, mode: 'upsert', key: ['id'] });
    const rejected = await h.run(memorySource('bad.csv', FIRST), pipeline);
    expect(rejected).toMatchObject({ status: 'rejected', error: { code: 'infer_key_missing' } });
    expect(rejected.error?.message).toMatch(
      /key "id", but the columns inferred from this file are "order_id"/,
    );
    expect(await contract(pipeline)).toEqual([]);
    expect(await tableColumns(pipeline)).toEqual([]);
    const good = await h.run(memorySource('good.csv', 'id,name\n1,a\n'), pipeline);
    expect(good).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    expect(await contract(pipeline)).toHaveLength(1);
  });

  it('lets one of several first files decide the contract when they arrive at once', async () => {
    const pipeline = await h.freshPipeline({ infer: true });
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        h.run(
          memorySource(`f${n}.csv`, `id,name\n${n},n${n}\n`, { chunkDelayMs: 20, chunkSize: 4 }),
          pipeline,
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['loaded', 'loaded', 'loaded']);
    expect(await contract(pipeline)).toHaveLength(1);
    expect((await h.rows(pipeline)).map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it('infers from Parquet declared types and stores nothing on a dry run', async () => {
    const pipeline = await h.freshPipeline({ infer: true });
    const file = parquetFile({
      id: flat('id', { type: 'INT64' }, [1n, 2n], false),
      at: flat(
        'at',
        { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } },
        [0n, 1n],
      ),
    });
    expect((await h.run(memorySource('p.parquet', file), pipeline, { dryRun: true })).status).toBe('loaded');
    expect(await contract(pipeline)).toEqual([]);
    expect((await h.run(memorySource('p.parquet', file), pipeline)).status).toBe('loaded');
    expect(await tableColumns(pipeline)).toEqual([
      ['id', 'bigint', 'YES'],
      ['at', 'timestamp with time zone', 'YES'],
    ]);
  });
});
