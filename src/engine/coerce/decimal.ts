import type { Coercer, CopyTextBuffer } from '../copy-text.js';
import { equalsIgnoreCase, failure, isSign, skipSpaces, trimEnd } from './bytes.js';

/**
 * Where the parts of a decimal literal (`-12.50e3`) lie in the input. One instance per coercer is
 * refilled for every value so the hot path allocates nothing.
 */
export interface DecimalParts {
  negative: boolean;
  intStart: number;
  intEnd: number;
  fracStart: number;
  fracEnd: number;
  /** The exponent, clamped to ±EXPONENT_CLAMP so absurd inputs cannot overflow the arithmetic. */
  exponent: number;
}

const EXPONENT_CLAMP = 1_000_000;

export function newDecimalParts(): DecimalParts {
  return { negative: false, intStart: 0, intEnd: 0, fracStart: 0, fracEnd: 0, exponent: 0 };
}

/**
 * Scans `[+-]digits[.digits][(e|E)[+-]digits]` with at least one mantissa digit, the grammar
 * PostgreSQL's numeric and float input both accept. Returns where the literal stops (the caller
 * decides whether trailing bytes are an error), or -1 if there is no literal at `i`.
 */
export function scanDecimal(src: Uint8Array, i: number, end: number, parts: DecimalParts): number {
  parts.negative = false;
  if (i < end) {
    const first = src[i];
    if (first === 0x2d /* - */) {
      parts.negative = true;
      i++;
    } else if (first === 0x2b /* + */) {
      i++;
    }
  }
  parts.intStart = i;
  while (i < end && isDigit(src[i]!)) i++;
  parts.intEnd = i;
  if (i < end && src[i] === 0x2e /* . */) {
    i++;
    parts.fracStart = i;
    while (i < end && isDigit(src[i]!)) i++;
  } else {
    parts.fracStart = i;
  }
  parts.fracEnd = i;
  if (parts.intEnd === parts.intStart && parts.fracEnd === parts.fracStart) return -1;
  parts.exponent = 0;
  if (i < end && (src[i]! | 0x20) === 0x65) {
    let k = i + 1;
    let negative = false;
    if (k < end && isSign(src[k])) {
      negative = src[k] === 0x2d /* - */;
      k++;
    }
    const digitsStart = k;
    let exponent = 0;
    while (k < end && isDigit(src[k]!)) {
      if (exponent < EXPONENT_CLAMP) exponent = exponent * 10 + src[k]! - 0x30 /* 0 */;
      k++;
    }
    if (k === digitsStart) return -1;
    parts.exponent = negative ? -exponent : exponent;
    i = k;
  }
  return i;
}

export function isDigit(b: number): boolean {
  return b >= 0x30 /* 0 */ && b <= 0x39 /* 9 */;
}

/** Number of mantissa digits (integer and fraction parts together). */
function mantissaLength(parts: DecimalParts): number {
  return parts.intEnd - parts.intStart + parts.fracEnd - parts.fracStart;
}

/** Mantissa digit `k` (0-based over integer then fraction digits); 0 outside the mantissa. */
export function mantissaDigit(src: Uint8Array, parts: DecimalParts, k: number): number {
  const intLen = parts.intEnd - parts.intStart;
  if (k < 0) return 0;
  if (k < intLen) return src[parts.intStart + k]! - 0x30 /* 0 */;
  const f = parts.fracStart + k - intLen;
  return f < parts.fracEnd ? src[f]! - 0x30 /* 0 */ : 0;
}

/** Index of the first nonzero mantissa digit, or the mantissa length when the value is zero. */
export function firstSignificant(src: Uint8Array, parts: DecimalParts): number {
  const len = mantissaLength(parts);
  let k = 0;
  while (k < len && mantissaDigit(src, parts, k) === 0) k++;
  return k;
}

/*
 * PostgreSQL numeric storage limits. PostgreSQL 15 rejects exponents beyond ±1000 outright (later
 * versions only the resulting size), so the stricter rule keeps every supported server happy.
 */
export const MAX_EXPONENT = 1000;
const MAX_INTEGER_DIGITS = 131_072;
const MAX_SCALE = 16_383;

/** True when PostgreSQL numeric input would refuse the literal as out of range. */
export function beyondNumericLimits(src: Uint8Array, parts: DecimalParts): boolean {
  const exponent = parts.exponent;
  if (exponent > MAX_EXPONENT || exponent < -MAX_EXPONENT) return true;
  // Zero keeps its display scale too, so this applies before looking at significant digits.
  if (parts.fracEnd - parts.fracStart - exponent > MAX_SCALE) return true;
  const first = firstSignificant(src, parts);
  if (first === mantissaLength(parts)) return false;
  return parts.intEnd - parts.intStart + exponent - first > MAX_INTEGER_DIGITS;
}

/** NaN, Infinity and -Infinity spelled as PostgreSQL's numeric and float input accept them. */
export type SpecialValue = 'NaN' | 'Infinity' | '-Infinity';

/** Recognizes `NaN`, `[+-]Infinity` and `[+-]inf` in any case. */
export function matchSpecial(src: Uint8Array, i: number, end: number): SpecialValue | undefined {
  if (equalsIgnoreCase(src, i, end, 'nan')) return 'NaN';
  let negative = false;
  if (i < end && isSign(src[i])) {
    negative = src[i] === 0x2d /* - */;
    i++;
  }
  if (equalsIgnoreCase(src, i, end, 'infinity') || equalsIgnoreCase(src, i, end, 'inf')) {
    return negative ? '-Infinity' : 'Infinity';
  }
  return undefined;
}

export const NOT_A_NUMBER = 'not a number';

/**
 * What every unconstrained number coercer does first: trim, then scan a decimal literal into
 * `parts` and hand its trimmed bounds to `finish`, or write a NaN/Infinity spelling as is.
 */
export function decimalLiteralCoercer(
  parts: DecimalParts,
  finish: (src: Uint8Array, i: number, e: number, out: CopyTextBuffer) => string | undefined,
): Coercer {
  return (src, start, end, out) => {
    const i = skipSpaces(src, start, end);
    const e = trimEnd(src, i, end);
    if (scanDecimal(src, i, e, parts) !== e) {
      const special = matchSpecial(src, i, e);
      if (special === undefined) return failure(src, start, end, NOT_A_NUMBER);
      out.ascii(special);
      return undefined;
    }
    return finish(src, i, e, out);
  };
}
