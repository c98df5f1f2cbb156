/**
 * Which decoder reads a Parquet file's flat columns (src/formats/parquet/reader.ts): by default arrow-rs only for a
 * file with at least ARROW_MIN_VALUES to read (rows × columns read), as starting it costs a process more than it
 * saves on a smaller one; hyparquet otherwise. Either may be asked for. The values are the same whichever reads
 * them (test/integration/engine/parquet-decoders.test.ts); this holds the choice.
 */
import { describe, expect, it } from 'vitest';
import { ARROW_MIN_VALUES, openParquet, type ParquetDecoder } from '../../../src/formats/parquet/reader.js';
import { flat, parquetFile } from '../../harness/parquet.js';
import { memoryRandomAccess } from '../../harness/sources.js';

/** Reads the columns `used` of `bytes` through, and says how many row groups each decoder read. */
async function decodedBy(bytes: Buffer, used: number[], decoder?: ParquetDecoder) {
  const reader = await openParquet(memoryRandomAccess(bytes), {
    source: 'choice.parquet',
    maxDecompressedBytes: 1e9,
    ...(decoder === undefined ? {} : { decoder }),
  });
  let rows = 0;
  for await (const batch of reader.batches(used)) rows += batch.rows;
  await reader.finish();
  return { rows, ...(reader.details.decodedBy as { arrowRs: number; hyparquet: number }) };
}

/** Two INT32 columns of `rows` rows, in one row group. */
function twoColumns(rows: number): Buffer {
  const values = Array.from({ length: rows }, (_, i) => i);
  return parquetFile(
    { a: flat('a', { type: 'INT32' }, values, false), b: flat('b', { type: 'INT32' }, values, false) },
    { rowGroupSize: rows, codec: 'UNCOMPRESSED' },
  );
}

describe('the Parquet decoder', () => {
  const small = twoColumns(100);
  // Half the threshold in rows: both columns read reach it, one alone does not.
  const half = twoColumns(ARROW_MIN_VALUES / 2);

  it('leaves a small file to hyparquet by default, and uses arrow-rs when asked', async () => {
    expect(await decodedBy(small, [0, 1])).toEqual({ rows: 100, arrowRs: 0, hyparquet: 1 });
    expect(await decodedBy(small, [0, 1], 'arrow-rs')).toEqual({ rows: 100, arrowRs: 1, hyparquet: 0 });
  });

  it('reads a file of ARROW_MIN_VALUES values to read with arrow-rs by default: rows times columns read', async () => {
    expect(await decodedBy(half, [0, 1])).toMatchObject({ arrowRs: 1, hyparquet: 0 });
    expect(await decodedBy(half, [0])).toMatchObject({ arrowRs: 0, hyparquet: 1 });
  });

  it('reads everything with hyparquet when asked, whatever the size', async () => {
    expect(await decodedBy(half, [0, 1], 'hyparquet')).toMatchObject({ arrowRs: 0, hyparquet: 1 });
  });
});
