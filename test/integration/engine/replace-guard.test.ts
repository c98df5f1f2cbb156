/**
 * mode: replace refuses a file that would leave the table with far fewer rows than it holds (a truncated
 * or header-only export), unless the pipeline's `replace:` setting or `forceReplace` (`inlet ingest --force`)
 * allows it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../../src/model/contract.js';
import { COPY_FORMATS, engineHarness, type PipelineOverrides } from '../../harness/engine.js';
import { memorySource } from '../../harness/sources.js';

const h = engineHarness('rg');

const COLUMNS = [
  { name: 'id', type: 'bigint', nullable: false },
  { name: 'name', type: 'text' },
];
const HEADER = 'id,name\n';

/** A CSV of rows `from`..`to` (inclusive), each with a name. */
function csv(from: number, to: number): string {
  let text = HEADER;
  for (let id = from; id <= to; id++) text += `${id},n${id}\n`;
  return text;
}

async function ids(pipeline: Pipeline): Promise<string[]> {
  return (await h.rows(pipeline, 'id')).map((row) => String(row.id));
}

/** A replace pipeline whose table already holds rows 1..`held` (loaded through the pipeline itself). */
async function replaceTableHolding(held: number, overrides: PipelineOverrides = {}): Promise<Pipeline> {
  const pipeline = await h.freshPipeline({ mode: 'replace', key: ['id'], columns: COLUMNS, ...overrides });
  if (held > 0) {
    const first = await h.run(memorySource('first.csv', csv(1, held)), pipeline);
    expect(first).toMatchObject({ status: 'loaded', rowsLoaded: held });
  }
  return pipeline;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

describe.each(COPY_FORMATS)('%s', (_label, format) => {
  beforeAll(() => {
    h.state.copyFormat = format;
  });

  it('rejects a header-only file sent to a table with rows, leaves the table as it was and says how to allow it', async () => {
    const pipeline = await replaceTableHolding(12);
    const table = `public.${pipeline.table.name}`;
    const result = await h.run(memorySource('truncated.csv', HEADER), pipeline);
    expect(result).toMatchObject({ status: 'rejected', rowsLoaded: 0, error: { code: 'replace_guard' } });
    const message = result.error?.message ?? '';
    expect(message).toContain(`the file has 0 rows to load; the table ${table} holds 12`);
    expect(message).toContain('replacing would remove them');
    expect(message).toContain('inlet ingest --force');
    expect(message).toContain('replace: { minRows: 0, minRatio: 0 }');
    expect(await ids(pipeline)).toEqual(range(1, 12));
    const ledger = await h.ledger(result.ingestionId);
    expect(ledger).toMatchObject({ status: 'rejected', error_code: 'replace_guard', error_message: message });
    expect(ledger?.details).toEqual({
      replaceGuard: { fileRows: 0, tableRows: 12, minRows: 1, minRatio: 0.5 },
    });
  });

  it('rejects a file below minRatio of the rows the table holds, and replaces with one at or above it', async () => {
    const pipeline = await replaceTableHolding(10);
    const table = `public.${pipeline.table.name}`;
    const below = await h.run(memorySource('four.csv', csv(101, 104)), pipeline);
    expect(below).toMatchObject({ status: 'rejected', error: { code: 'replace_guard' } });
    expect(below.error?.message).toContain(
      `the file has 4 rows to load, fewer than minRatio 0.5 × the 10 rows the table ${table} holds (5)`,
    );
    expect(below.error?.message).toContain('replacing would leave it with 4 rows instead of 10');
    expect(await ids(pipeline)).toEqual(range(1, 10));

    const atRatio = await h.run(memorySource('five.csv', csv(201, 205)), pipeline);
    expect(atRatio).toMatchObject({ status: 'loaded', rowsLoaded: 5 });
    expect(await ids(pipeline)).toEqual(range(201, 205));
  });

  it('replaces a table with more rows than before, or as many', async () => {
    const pipeline = await replaceTableHolding(3);
    expect(await h.run(memorySource('more.csv', csv(11, 20)), pipeline)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 10,
    });
    expect(await ids(pipeline)).toEqual(range(11, 20));
  });

  it('with forceReplace (inlet ingest --force) replaces anyway, even with nothing', async () => {
    const pipeline = await replaceTableHolding(12);
    const few = await h.run(memorySource('one.csv', csv(50, 50)), pipeline, { forceReplace: true });
    expect(few).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    expect(await ids(pipeline)).toEqual(['50']);
    const empty = await h.run(memorySource('empty.csv', HEADER), pipeline, { forceReplace: true });
    expect(empty).toMatchObject({ status: 'loaded', rowsLoaded: 0 });
    expect(await ids(pipeline)).toEqual([]);
  });

  it('loads any file into an empty table, a header-only one too: there is nothing to remove', async () => {
    const pipeline = await replaceTableHolding(0);
    expect(await h.run(memorySource('nothing.csv', HEADER), pipeline)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 0,
    });
    expect(await h.run(memorySource('first.csv', csv(1, 3)), pipeline)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 3,
    });
    expect(await ids(pipeline)).toEqual(range(1, 3));
  });

  it('replace: { minRows: 0, minRatio: 0 } turns the guard off', async () => {
    const pipeline = await replaceTableHolding(12, { replace: { minRows: 0, minRatio: 0 } });
    expect(await h.run(memorySource('empty.csv', HEADER), pipeline)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 0,
    });
    expect(await ids(pipeline)).toEqual([]);
  });

  it('applies the pipeline’s own minRows and minRatio', async () => {
    const pipeline = await replaceTableHolding(10, { replace: { minRows: 5, minRatio: 0.9 } });
    const table = `public.${pipeline.table.name}`;
    const few = await h.run(memorySource('four.csv', csv(1, 4)), pipeline);
    expect(few.error?.message).toContain(
      `the file has 4 rows to load, fewer than minRows 5; the table ${table} holds 10`,
    );
    const belowRatio = await h.run(memorySource('eight.csv', csv(1, 8)), pipeline);
    expect(belowRatio.error?.message).toContain('fewer than minRatio 0.9 × the 10 rows');
    expect(await h.run(memorySource('nine.csv', csv(1, 9)), pipeline)).toMatchObject({ status: 'loaded' });
  });

  it('counts the rows that would load: rows rejected by validation and repeated keys do not count', async () => {
    const pipeline = await replaceTableHolding(10, { rejects: { maxRatio: 1 } });
    // Ten records, six of them bad: four would load.
    const bad = `${HEADER}1,a\nx,b\ny,c\n2,d\nz,e\nw,f\n3,g\nv,h\nu,i\n4,j\n`;
    const rejected = await h.run(memorySource('bad.csv', bad), pipeline);
    expect(rejected).toMatchObject({ status: 'rejected', rowsRejected: 6, error: { code: 'replace_guard' } });
    expect(rejected.error?.message).toContain(
      'the file has 4 rows to load (6 more were rejected), fewer than',
    );
    // Ten rows of one key are one row (duplicateKeys: last).
    const repeated = `${HEADER}${'7,same\n'.repeat(10)}`;
    const one = await h.run(memorySource('repeated.csv', repeated), pipeline);
    expect(one).toMatchObject({ status: 'rejected', error: { code: 'replace_guard' } });
    expect(one.error?.message).toContain('the file has 1 row to load');
    expect(await ids(pipeline)).toEqual(range(1, 10));
  });

  it('names the exact row count of a table much larger than the file', async () => {
    const pipeline = await replaceTableHolding(0);
    await h.state.pool.query(
      `INSERT INTO public.${pipeline.table.name} (id, name) SELECT g, 'x' FROM generate_series(1, 2500) g`,
    );
    // The guard counts only as far as decides (a few rows here), then the exact figure for the message.
    const one = await h.run(memorySource('one.csv', csv(1, 1)), pipeline);
    expect(one.error?.message).toContain(
      `the 2,500 rows the table public.${pipeline.table.name} holds (1,250)`,
    );
    expect(one.error?.message).toContain('replacing would leave it with 1 row instead of 2,500');
    const none = await h.run(memorySource('none.csv', HEADER), pipeline);
    expect(none.error?.message).toContain(`the table public.${pipeline.table.name} holds 2,500 rows;`);
    expect(await h.ledger(none.ingestionId)).toMatchObject({
      details: { replaceGuard: { fileRows: 0, tableRows: 2500, minRows: 1, minRatio: 0.5 } },
    });
    expect((await h.rows(pipeline)).length).toBe(2500);
  });

  it('counts rows another session committed while the file was being read', async () => {
    const pipeline = await replaceTableHolding(10);
    // Six rows of ten pass; the slow source leaves time for twenty more rows to arrive meanwhile.
    const slow = memorySource('six.csv', csv(101, 106), { chunkSize: 4, chunkDelayMs: 40 });
    const running = h.run(slow, pipeline);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await h.state.pool.query(
      `INSERT INTO public.${pipeline.table.name} (id, name) SELECT g, 'late' FROM generate_series(11, 30) g`,
    );
    const result = await running;
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'replace_guard' } });
    expect(result.error?.message).toContain('fewer than minRatio 0.5 × the 30 rows');
    expect(await ids(pipeline)).toEqual(range(1, 30));
  });

  it('reports the guard in a dry run (inlet validate) too', async () => {
    const pipeline = await replaceTableHolding(4);
    const result = await h.run(memorySource('empty.csv', HEADER), pipeline, { dryRun: true, force: true });
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'replace_guard' } });
    expect(await ids(pipeline)).toEqual(range(1, 4));
  });
});
