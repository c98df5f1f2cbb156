/**
 * The plain-literal fast paths of binary COPY (numeric(p,s) and the integers) write exactly what the
 * general path (the text coercer, then its transcoder) writes, and decline everything they do not
 * handle, for the general path to decide.
 */
import { describe, expect, it } from 'vitest';
import { makePlainIntegerEncoder } from '../../../../src/engine/coerce/binary-integer-plain.js';
import { encodeNumeric } from '../../../../src/engine/coerce/binary-numeric.js';
import { makePlainNumericEncoder } from '../../../../src/engine/coerce/binary-numeric-plain.js';
import { type IntegerKind, makeIntegerCoercer } from '../../../../src/engine/coerce/integer.js';
import { makeScaledNumericCoercer } from '../../../../src/engine/coerce/numeric.js';
import { CopyTextBuffer } from '../../../../src/engine/copy-text.js';
import { seededRandom } from '../../../harness/seeded-random.js';

function general(precision: number, scale: number, literal: string): string | undefined {
  const text = new CopyTextBuffer(64);
  const src = Buffer.from(literal);
  if (makeScaledNumericCoercer(precision, scale)(src, 0, src.length, text) !== undefined) return undefined;
  const out = new CopyTextBuffer(64);
  encodeNumeric(text.buf, text.pos, false, scale, out);
  return out.buf.subarray(0, out.pos).toString('hex');
}

function plain(precision: number, scale: number, literal: string): string | undefined {
  const out = new CopyTextBuffer(4);
  const src = Buffer.from(`x${literal}y`);
  const encoded = makePlainNumericEncoder(precision, scale)(src, 1, src.length - 1, out);
  return encoded ? out.buf.subarray(0, out.pos).toString('hex') : undefined;
}

/** A deterministic stream of literals around the shapes files hold. */
function* literals(count: number): Generator<string> {
  const random = seededRandom(7);
  const next = (n: number) => Math.floor(random() * n);
  const digits = (n: number) => Array.from({ length: n }, () => String(next(10))).join('');
  const zeros = (n: number) => '0'.repeat(n);
  for (let i = 0; i < count; i++) {
    const sign = next(4) === 0 ? '-' : '';
    const int = [digits(1 + next(9)), zeros(1 + next(3)), `${zeros(next(3))}${digits(1 + next(6))}`][next(3)];
    const frac =
      next(3) === 0
        ? ''
        : `.${[digits(1 + next(5)), zeros(1 + next(3)), `${digits(1 + next(2))}${zeros(next(3))}`][next(3)]}`;
    yield `${sign}${int}${frac}`;
  }
}

describe('numeric(p,s) plain literals in binary', () => {
  it('writes what the general path writes, for every literal it takes', () => {
    let taken = 0;
    for (const [precision, scale] of [
      [12, 2],
      [10, 0],
      [8, 4],
      [20, 6],
      [4, 4],
      [1000, 500],
    ] as const) {
      for (const literal of literals(4000)) {
        const fast = plain(precision, scale, literal);
        if (fast === undefined) continue;
        taken++;
        expect([literal, fast]).toEqual([literal, general(precision, scale, literal)]);
      }
    }
    // Most of them take the fast path: the comparison above is not vacuous.
    expect(taken).toBeGreaterThan(12_000);
  });

  it.each(['0', '-0.00', '-12.5', '10000', '0.01', '-0.10', '99999999.99', '00012.30'])('%s', (literal) => {
    expect(plain(12, 2, literal)).toBe(general(12, 2, literal));
  });

  it.each(['.5', '5.', '-', '', '+1', ' 1', '1 ', '1e3', '1.005', 'NaN', '12345678901', '1,5'])(
    'leaves %j to the general path',
    (literal) => {
      expect(plain(12, 2, literal)).toBeUndefined();
    },
  );
});

/** What the integer's binary form must be: the text coercer's canonical value, written by Buffer. */
function generalInteger(kind: IntegerKind, literal: string): string | undefined {
  const text = new CopyTextBuffer(32);
  const src = Buffer.from(literal);
  if (makeIntegerCoercer(kind)(src, 0, src.length, text) !== undefined) return undefined;
  const value = BigInt(text.buf.toString('latin1', 0, text.pos));
  const out = Buffer.alloc(kind === 'bigint' ? 8 : kind === 'integer' ? 4 : 2);
  if (kind === 'bigint') out.writeBigInt64BE(value);
  else if (kind === 'integer') out.writeInt32BE(Number(value));
  else out.writeInt16BE(Number(value));
  return out.toString('hex');
}

function plainInteger(kind: IntegerKind, literal: string): string | undefined {
  const out = new CopyTextBuffer(2);
  const src = Buffer.from(`x${literal}y`);
  return makePlainIntegerEncoder(kind)(src, 1, src.length - 1, out)
    ? out.buf.subarray(0, out.pos).toString('hex')
    : undefined;
}

describe('integer plain literals in binary', () => {
  const kinds: IntegerKind[] = ['smallint', 'integer', 'bigint'];
  it.each(kinds)('%s: writes what the general path writes, for every literal it takes', (kind) => {
    let taken = 0;
    const random = seededRandom(11);
    for (let i = 0; i < 5000; i++) {
      const seed = Math.floor(random() * 2 ** 31);
      const length = 1 + (seed % 17);
      const digits = String(seed).padStart(10, '0').repeat(2).slice(0, length);
      const literal = `${seed % 3 === 0 ? '-' : ''}${seed % 7 === 0 ? '00' : ''}${digits}`;
      const fast = plainInteger(kind, literal);
      if (fast === undefined) continue;
      taken++;
      expect([literal, fast]).toEqual([literal, generalInteger(kind, literal)]);
    }
    expect(taken).toBeGreaterThan(500);
  });

  it.each(['0', '-0', '007', '-1', '9999', '-9999'])('%s in every kind', (literal) => {
    for (const kind of kinds) expect(plainInteger(kind, literal)).toBe(generalInteger(kind, literal));
  });

  it.each(['', '-', '+1', ' 1', '1 ', '1.0', '1e3', '12a', '--1'])(
    'leaves %j to the general path',
    (literal) => {
      for (const kind of kinds) expect(plainInteger(kind, literal)).toBeUndefined();
    },
  );

  it('leaves values that may be out of range to the general path', () => {
    expect(plainInteger('smallint', '32768')).toBeUndefined();
    expect(plainInteger('integer', '2147483648')).toBeUndefined();
    expect(plainInteger('bigint', '9223372036854775808')).toBeUndefined();
  });
});
