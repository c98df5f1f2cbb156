import { describe, expect, it } from 'vitest';
import { makeBinaryCoercer } from '../../../src/engine/coerce/binary.js';
import { CopyTextBuffer } from '../../../src/engine/copy-text.js';
import { byteProblem } from '../../../src/engine/encode/encoder.js';
import { typedWriter } from '../../../src/engine/encode/typed.js';
import type { ParquetField, ParquetKind } from '../../../src/formats/parquet/fields.js';
import { parquetCellType, parquetConverter } from '../../../src/formats/parquet/values.js';
import { ByteSpan, CellProblem, PlainNumber } from '../../../src/formats/table.js';
import { parseColumnType } from '../../../src/model/column-type.js';
import type { ColumnContract } from '../../../src/model/contract.js';
import { seededRandom } from '../../harness/seeded-random.js';

function column(type: string): ColumnContract {
  const parsed = parseColumnType(type);
  if (typeof parsed === 'string') throw new Error(parsed);
  return { name: 'c', source: 'c', type: parsed, nullable: true };
}

function field(type: ParquetKind): ParquetField {
  return { name: 'c', type, nullable: true, spelled: type.kind };
}

type Outcome = { payload: string } | { reject: string };

/** What the generic path makes of a value: the Parquet converter's text, then the column's binary coercer. */
function generic(f: ParquetField, c: ColumnContract, value: unknown): Outcome {
  const text = parquetConverter(f, c, 'test.parquet')(value);
  if (text instanceof CellProblem) return { reject: text.reason };
  if (text instanceof ByteSpan || text instanceof PlainNumber)
    throw new Error('Parquet converters write strings or bytes');
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
  if (typeof text === 'string' && text.includes('\u0000')) return { reject: 'NUL' };
  if (typeof text !== 'string') {
    const problem = byteProblem(bytes, 0, bytes.length, false);
    if (problem !== undefined) return { reject: problem };
  }
  const coercer = makeBinaryCoercer(c, { timezone: 'UTC' });
  if (coercer === undefined) throw new Error('binary COPY expected');
  const out = new CopyTextBuffer(16);
  // Empty values take the column's default or NULL: never the typed writer's.
  if (bytes.length === 0) return { reject: 'empty' };
  const reason = coercer(bytes, 0, bytes.length, out);
  return reason === undefined ? { payload: out.buf.toString('hex', 0, out.pos) } : { reject: reason };
}

/** The typed writer's field, or undefined when it declines (then the generic path decides). */
function typed(f: ParquetField, c: ColumnContract, value: unknown): string | undefined {
  const cell = parquetCellType(f);
  const write = cell && typedWriter(cell, c);
  if (write === undefined) return undefined;
  const out = new CopyTextBuffer(16);
  if (!write(value, out)) {
    expect(out.pos).toBe(0);
    return undefined;
  }
  expect(out.buf.readInt32BE(0)).toBe(out.pos - 4);
  return out.buf.toString('hex', 4, out.pos);
}

/**
 * Every value the typed writer takes must be stored exactly as the generic path stores it; every
 * value the generic path rejects must be declined (so its reject keeps its reason). Returns how many
 * values the typed writer took, so that a test can check it is not declining everything.
 */
function agree(f: ParquetField, types: readonly string[], values: readonly unknown[]): number {
  let taken = 0;
  for (const type of types) {
    const c = column(type);
    for (const value of values) {
      const fast = typed(f, c, value);
      const reference = generic(f, c, value);
      const where = `${String(value)} (${typeof value}) into ${type}`;
      if (fast === undefined) continue;
      taken++;
      expect(reference, where).toEqual({ payload: fast });
    }
  }
  return taken;
}

const next = seededRandom(16);
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function randomBigint(bits: number): bigint {
  let value = 0n;
  for (let b = 0; b < bits; b += 16) value = (value << 16n) | BigInt(Math.floor(next() * 65_536));
  value &= (1n << BigInt(bits)) - 1n;
  return next() < 0.5 ? -value : value;
}

describe('typed binary COPY fields against the generic path (text, coercer, binary)', () => {
  it('integers into smallint, integer and bigint: in range written, out of range left to the coercer', () => {
    const int32 = [0, 1, -1, 32_767, 32_768, -32_768, -32_769, 2_147_483_647, -2_147_483_648];
    for (let i = 0; i < 2_000; i++) int32.push(Math.floor((next() - 0.5) * 2 ** (1 + next() * 32)));
    const types = ['smallint', 'integer', 'bigint'];
    expect(agree(field({ kind: 'integer', bits: 32, signed: true }), types, int32)).toBeGreaterThan(3_000);

    const int64 = [0n, -1n, INT64_MIN, INT64_MAX, 2n ** 53n, -(2n ** 53n), 2n ** 53n + 1n, 2n ** 64n - 1n];
    for (let i = 0; i < 2_000; i++) int64.push(randomBigint(1 + Math.floor(next() * 64)));
    expect(agree(field({ kind: 'integer', bits: 64, signed: true }), types, int64)).toBeGreaterThan(2_000);
    // Out of range is declined, so the reject names the range as for CSV.
    const c = column('smallint');
    expect(typed(field({ kind: 'integer', bits: 64, signed: true }), c, 70_000n)).toBeUndefined();
    expect(generic(field({ kind: 'integer', bits: 64, signed: true }), c, 70_000n)).toEqual({
      reject: expect.stringMatching(/^out of range for smallint/),
    });
  });

  it('doubles into double precision, NaN and infinities left to the coercer; float32 always generic', () => {
    const doubles = [
      0,
      -0,
      1,
      -1,
      0.1,
      1e21,
      5e-324,
      2.2250738585072014e-308,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
    ];
    doubles.push(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
    for (let i = 0; i < 2_000; i++) doubles.push((next() - 0.5) * 10 ** Math.floor((next() - 0.5) * 600));
    const f64 = field({ kind: 'float', single: false });
    expect(agree(f64, ['double precision'], doubles)).toBeGreaterThan(1_900);
    expect(typed(f64, column('double precision'), Number.NaN)).toBeUndefined();
    expect(generic(f64, column('double precision'), Number.NaN)).toHaveProperty('payload');
    expect(parquetCellType(field({ kind: 'float', single: true }))).toBeUndefined();
    expect(typed(f64, column('real'), 1.5)).toBeUndefined();
  });

  it('booleans', () => {
    expect(agree(field({ kind: 'boolean' }), ['boolean'], [true, false])).toBe(2);
  });

  it('dates before 1970, after 2038 and at both ends of 0001–9999', () => {
    const days = [0, -1, 24_855, 24_856, -719_162, -719_163, 2_932_896, 2_932_897, 10_957, 11_016];
    for (let i = 0; i < 3_000; i++) days.push(Math.floor((next() - 0.2) * 3_700_000));
    expect(agree(field({ kind: 'date' }), ['date'], days)).toBeGreaterThan(2_000);
  });

  it('timestamps in every unit into timestamp and timestamptz, microseconds kept, nanoseconds when whole', () => {
    const types = ['timestamp', 'timestamptz'];
    const micros = [
      0n,
      -1n,
      -8_904_894_317_457_895n,
      9_007_199_254_740_991n,
      1_700_000_000_123_456n,
      -62_135_596_800_000_000n,
      253_402_300_799_999_999n,
    ];
    micros.push(-62_135_596_800_000_001n, 253_402_300_800_000_000n, INT64_MIN, INT64_MAX);
    for (let i = 0; i < 2_000; i++) micros.push(BigInt(Math.floor((next() - 0.5) * 2 ** (20 + next() * 40))));
    for (const unit of ['MICROS', 'MILLIS', 'NANOS'] as const) {
      const f = field({ kind: 'timestamp', unit, utc: unit !== 'MILLIS' });
      const values = unit === 'NANOS' ? micros.flatMap((v) => [v * 1000n, v * 1000n + 789n]) : micros;
      const taken = agree(
        f,
        types,
        values.filter((v) => v >= INT64_MIN && v <= INT64_MAX),
      );
      expect(taken, unit).toBeGreaterThan(2_000);
    }
  });

  it('decimals of various scales into numeric of the same scale, unconstrained numeric, and others left alone', () => {
    for (const scale of [0, 1, 2, 4, 5, 8, 9, 15, 18]) {
      const values: (bigint | number)[] = [
        0n,
        1n,
        -1n,
        9_999n,
        10_000n,
        -10_000n,
        10n ** 15n,
        2n ** 53n,
        2n ** 63n - 1n,
      ];
      for (let i = 0; i < 500; i++) {
        const v = randomBigint(1 + Math.floor(next() * 60));
        values.push(v, Number(BigInt.asIntN(32, v)));
      }
      const types = [
        'numeric',
        `numeric(18,${Math.min(scale, 18)})`,
        `numeric(${Math.max(scale, 6)},${scale})`,
      ];
      types.push(`numeric(38,${scale})`, `numeric(${Math.max(12, scale)},${Math.max(0, scale - 1)})`);
      const taken = agree(field({ kind: 'decimal', precision: 38, scale }), types, values);
      if (scale <= 15) expect(taken, `scale ${scale}`).toBeGreaterThan(500);
    }
  });

  it('text: strings and UTF-8 bytes written as they are; NUL, bad UTF-8 and empty left to the generic path', () => {
    const alphabet = ['a', 'Z', ' ', '"', '\\', '\t', '\n', 'ü', '€', '😀', '\u0000', '\ud800'];
    const strings: unknown[] = ['', 'Ada', 'x\u0000y', '\ud83d', 'tab\there'];
    for (let i = 0; i < 1_000; i++) {
      let text = '';
      const length = Math.floor(next() * 12);
      for (let k = 0; k < length; k++) text += pick(alphabet);
      strings.push(text, Buffer.from(text, 'utf8'));
    }
    strings.push(new Uint8Array([0xff, 0x41]), new Uint8Array([0x41, 0]), new Uint8Array(0));
    const text = field({ kind: 'string' });
    expect(agree(text, ['text', 'varchar', 'varchar(3)'], strings)).toBeGreaterThan(800);
    expect(typed(text, column('text'), 'x\u0000y')).toBeUndefined();
    expect(generic(text, column('text'), 'x\u0000y')).toEqual({ reject: 'NUL' });
    expect(typed(text, column('text'), new Uint8Array([0xff]))).toBeUndefined();
  });

  it('a column with a format always takes the generic path', () => {
    const c = { ...column('date'), format: 'DD/MM/YYYY' };
    expect(typedWriter({ kind: 'date' }, c)).toBeUndefined();
  });
});
