import type { Coercer } from '../copy-text.js';
import { failure, skipSpaces, trimEnd } from './bytes.js';

export type IntegerKind = 'smallint' | 'integer' | 'bigint';

const NOT_AN_INTEGER = 'not an integer';

interface IntegerRange {
  /** Most significant digits (leading zeros excluded) a value in range can have. */
  readonly maxDigits: number;
  /** Largest magnitude for positive and negative values, as digit strings of length `maxDigits`. */
  readonly maxPositive: string;
  readonly maxNegative: string;
  readonly reason: string;
}

/** The limits as numbers too, for the types where a double holds them exactly. */
interface CompiledRange extends IntegerRange {
  readonly maxPositiveValue: number;
  readonly maxNegativeValue: number;
}

const RANGES: Record<IntegerKind, IntegerRange> = {
  smallint: {
    maxDigits: 5,
    maxPositive: '32767',
    maxNegative: '32768',
    reason: 'out of range for smallint (-32768 to 32767)',
  },
  integer: {
    maxDigits: 10,
    maxPositive: '2147483647',
    maxNegative: '2147483648',
    reason: 'out of range for integer (-2147483648 to 2147483647)',
  },
  bigint: {
    maxDigits: 19,
    maxPositive: '9223372036854775807',
    maxNegative: '9223372036854775808',
    reason: 'out of range for bigint (-9223372036854775808 to 9223372036854775807)',
  },
};

/**
 * Optional sign and decimal digits only. Emits the canonical form (no '+', no leading zeros, no
 * "-0") so what PostgreSQL stores matches what a person reads in the reject report.
 */
export function makeIntegerCoercer(kind: IntegerKind): Coercer {
  const range: CompiledRange = {
    ...RANGES[kind],
    maxPositiveValue: Number(RANGES[kind].maxPositive),
    maxNegativeValue: Number(RANGES[kind].maxNegative),
  };
  const { maxDigits, reason } = range;
  return (src, start, end, out) => {
    let i = skipSpaces(src, start, end);
    const e = trimEnd(src, i, end);
    let negative = false;
    if (i < e) {
      const first = src[i];
      if (first === 0x2d /* - */) {
        negative = true;
        i++;
      } else if (first === 0x2b /* + */) {
        i++;
      }
    }
    if (i === e) return failure(src, start, end, NOT_AN_INTEGER);
    let sig = i;
    while (sig < e && src[sig] === 0x30 /* 0 */) sig++;
    const digits = e - sig;
    // Validate while copying: on a reject the caller discards whatever was written.
    out.ensure(digits + 1);
    const buf = out.buf;
    let pos = out.pos;
    if (digits === 0) {
      buf[pos++] = 0x30 /* 0 */;
    } else if (negative) {
      buf[pos++] = 0x2d /* - */;
    }
    let value = 0;
    for (let k = sig; k < e; k++) {
      const b = src[k]!;
      if (b < 0x30 /* 0 */ || b > 0x39 /* 9 */) return failure(src, start, end, NOT_AN_INTEGER);
      buf[pos++] = b;
      value = value * 10 + b - 0x30 /* 0 */;
    }
    if (digits >= maxDigits && !inRange(src, sig, digits, value, negative, range)) return reason;
    out.pos = pos;
    return undefined;
  };
}

/**
 * Range check for values with at least `maxDigits` significant digits. `value` is exact up to 15
 * digits, enough for smallint and integer; bigint compares digit strings, which for equal lengths
 * order like the numbers they spell.
 */
function inRange(
  src: Uint8Array,
  at: number,
  digits: number,
  value: number,
  negative: boolean,
  range: CompiledRange,
): boolean {
  if (digits > range.maxDigits) return false;
  if (digits <= 15) return value <= (negative ? range.maxNegativeValue : range.maxPositiveValue);
  const limit = negative ? range.maxNegative : range.maxPositive;
  for (let k = 0; k < digits; k++) {
    const a = src[at + k]!;
    const b = limit.charCodeAt(k);
    if (a !== b) return a < b;
  }
  return true;
}
