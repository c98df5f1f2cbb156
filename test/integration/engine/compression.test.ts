import { brotliCompressSync, deflateSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { COPY_FORMATS, engineHarness } from '../../harness/engine.js';
import { memorySource } from '../../harness/sources.js';

const h = engineHarness('cmp');

const COLUMNS = [
  { name: 'id', type: 'bigint', nullable: false },
  { name: 'name', type: 'text' },
];
const CSV = `id,name\n${Array.from({ length: 500 }, (_, i) => `${i + 1},name ${i + 1}`).join('\n')}\n`;

describe.each(COPY_FORMATS)('%s', (_label, format) => {
  beforeAll(() => {
    h.state.copyFormat = format;
  });

  it('loads deflate, brotli and single-file zip data, and records the compression', async () => {
    for (const [bytes, name, compression] of [
      [deflateSync(CSV), 'orders.csv', 'deflate'],
      [brotliCompressSync(CSV), 'orders.csv.br', 'brotli'],
      [zipSync({ 'orders.csv': Buffer.from(CSV) }), 'orders.zip', 'zip'],
    ] as const) {
      const pipeline = await h.freshPipeline({ columns: COLUMNS });
      const result = await h.run(memorySource(name, Buffer.from(bytes), { chunkSize: 333 }), pipeline);
      expect(result, name).toMatchObject({ status: 'loaded', rowsLoaded: 500, bytes: bytes.length });
      const ledger = await h.ledger(result.ingestionId);
      expect(ledger?.details).toMatchObject({ format: 'csv', compression });
      expect((await h.rows(pipeline)).at(-1)).toEqual({ id: '500', name: 'name 500' });
    }
  });

  it('reads brotli when the pipeline declares it, whatever the name', async () => {
    const pipeline = await h.freshPipeline({ columns: COLUMNS, compression: 'brotli' });
    const result = await h.run(memorySource('orders.csv', brotliCompressSync(CSV)), pipeline);
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 500 });
  });

  it('judges a zipped file by its entry name: NDJSON inside a .zip', async () => {
    const pipeline = await h.freshPipeline({ columns: COLUMNS });
    const zip = zipSync({ 'rows.ndjson': Buffer.from('{"id": 1, "name": "a"}\n{"id": 2}\n') });
    const result = await h.run(memorySource('upload.zip', Buffer.from(zip)), pipeline);
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    expect((await h.ledger(result.ingestionId))?.details).toMatchObject({
      format: 'ndjson',
      entry: 'rows.ndjson',
    });
  });

  it('refuses a zip of several files with a clear error, and loads nothing', async () => {
    const pipeline = await h.freshPipeline({ columns: COLUMNS });
    const zip = zipSync({ 'a.csv': Buffer.from(CSV), 'b.csv': Buffer.from(CSV) });
    const result = await h.run(memorySource('two.zip', Buffer.from(zip)), pipeline);
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'zip_several_entries' } });
    expect(result.error?.message).toMatch(/Send one file per archive/);
    expect(await h.rows(pipeline)).toEqual([]);
    expect(await h.ledger(result.ingestionId)).toMatchObject({
      status: 'rejected',
      error_code: 'zip_several_entries',
    });
  });

  it('rejects a truncated zip and a truncated brotli file, loading nothing (B15)', async () => {
    const pipeline = await h.freshPipeline({ columns: COLUMNS });
    const zip = Buffer.from(zipSync({ 'a.csv': Buffer.from(CSV) }));
    const cut = await h.run(memorySource('cut.zip', zip.subarray(0, zip.length - 100)), pipeline);
    expect(cut).toMatchObject({ status: 'rejected', error: { code: 'corrupt_zip' } });
    const brotli = brotliCompressSync(CSV);
    const cutBrotli = await h.run(
      memorySource('cut.csv.br', brotli.subarray(0, brotli.length - 30)),
      pipeline,
    );
    expect(cutBrotli).toMatchObject({ status: 'rejected', error: { code: 'corrupt_brotli' } });
    expect(await h.rows(pipeline)).toEqual([]);
  });
});
