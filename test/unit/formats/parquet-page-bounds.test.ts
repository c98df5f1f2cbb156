/**
 * Damaged Parquet pages are refused before hyparquet decodes them (src/formats/parquet/page-bounds.ts).
 * The damage is seeded random bytes in a small file: before the check, rounds 317 and 349 of seed 4242
 * kept hyparquet at full CPU for minutes (a page claiming more values than its chunk; a header without its
 * sizes, which made hyparquet's read offset NaN), and the process grew to gigabytes. Without the check this
 * file does not fail quickly: the decode holds the thread, so no timeout of the test fires, and the run
 * stalls until its own limit stops it.
 */
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../../src/errors.js';
import { flat, int64Ids, parquetFile, readEveryRow } from '../../harness/parquet.js';
import { seededRandom } from '../../harness/seeded-random.js';

const ROWS = 300;

function original(): Buffer {
  return parquetFile(
    {
      id: int64Ids(ROWS),
      name: flat(
        'name',
        { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
        Array.from({ length: ROWS }, (_, i) => (i % 7 === 0 ? null : `name ${i}`)),
      ),
      amount: flat(
        'amount',
        { type: 'DOUBLE' },
        Array.from({ length: ROWS }, (_, i) => i * 1.5),
      ),
    },
    { rowGroupSize: 100 },
  );
}

/** Seed 4242's damaged copies of the file, one per round: 1 to 4 bytes overwritten with random ones. */
function* damaged(rounds: number): Generator<Buffer> {
  const file = original();
  const random = seededRandom(4242);
  for (let round = 0; round < rounds; round++) {
    const bytes = Buffer.from(file);
    for (let edits = 1 + Math.floor(random() * 4); edits > 0; edits--) {
      bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    }
    yield bytes;
  }
}

/** Every row of every column read through, or the reader's error. */
function readAll(bytes: Buffer): Promise<number | FormatError> {
  return readEveryRow(bytes, 'damaged.parquet');
}

describe('damaged Parquet pages', () => {
  it('the file undamaged reads every row', async () => {
    expect(await readAll(original())).toBe(ROWS);
  });

  it('the rounds that kept hyparquet busy for minutes are refused as corrupt_parquet', async () => {
    const rounds = [...damaged(350)];
    for (const round of [317, 349]) {
      const outcome = await readAll(rounds[round] as Buffer);
      expect(outcome, `round ${round}`).toBeInstanceOf(FormatError);
      expect((outcome as FormatError).code).toBe('corrupt_parquet');
    }
  });

  it('each of 1,500 damaged copies is read or refused with a FormatError (seed 4242)', async () => {
    const outcomes = new Map<string, number>();
    for (const bytes of damaged(1_500)) {
      const outcome = await readAll(bytes);
      const kind = outcome instanceof FormatError ? outcome.code : 'read';
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
    }
    // Most damage is refused; some lands where no reader can see it (a value's own bytes).
    expect(outcomes.get('corrupt_parquet') ?? 0).toBeGreaterThan(500);
    expect(outcomes.get('read') ?? 0).toBeGreaterThan(100);
  }, 60_000);

  it('each of 1,000 copies damaged in the footer alone is read or refused with a FormatError (seed 4243)', async () => {
    // Damage in the footer found a row group placed past the end of the file (a spooled file then read on,
    // empty, until the heap was full) and a column chunk without its path (a TypeError).
    const file = original();
    const footerStart = file.length - 8 - file.readUInt32LE(file.length - 8);
    const random = seededRandom(4243);
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 1_000; round++) {
      const bytes = Buffer.from(file);
      for (let edits = 1 + Math.floor(random() * 4); edits > 0; edits--) {
        bytes[footerStart + Math.floor(random() * (file.length - 8 - footerStart))] = Math.floor(
          random() * 256,
        );
      }
      const outcome = await readAll(bytes);
      const kind = outcome instanceof FormatError ? outcome.code : 'read';
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
    }
    expect(outcomes.get('corrupt_parquet') ?? 0).toBeGreaterThan(300);
    expect(
      [...outcomes.keys()].every((kind) => ['read', 'corrupt_parquet', 'unsupported_parquet'].includes(kind)),
    ).toBe(true);
  }, 60_000);
});
