import type { Coercer } from '../copy-text.js';
import { asBuffer, copyBytes } from './bytes.js';
import { type DecimalParts, decimalLiteralCoercer, newDecimalParts } from './decimal.js';

export type FloatKind = 'real' | 'double precision';

interface FloatRange {
  /**
   * Decimal magnitudes m (value in [10^(m-1), 10^m)) that are certainly representable and
   * nonzero; only values outside them pay for a string conversion.
   */
  readonly safeMin: number;
  readonly safeMax: number;
  readonly reason: string;
  /** Rounds a double to the type's precision (identity for double precision). */
  readonly round: (x: number) => number;
}

const RANGES: Record<FloatKind, FloatRange> = {
  real: { safeMin: -36, safeMax: 38, reason: 'out of range for real', round: Math.fround },
  'double precision': {
    safeMin: -300,
    safeMax: 300,
    reason: 'out of range for double precision',
    round: (x) => x,
  },
};

/**
 * Decimal or exponent notation, NaN and ±Infinity. The trimmed input is emitted as written so
 * PostgreSQL does the (correctly rounded) conversion itself; we only make sure it will not refuse
 * the value: overflow to infinity, or a nonzero literal that underflows to zero, as in float8in.
 */
export function makeFloatCoercer(kind: FloatKind): Coercer {
  const { safeMin, safeMax, reason, round } = RANGES[kind];
  const parts = newDecimalParts();
  return decimalLiteralCoercer(parts, (src, i, e, out) => {
    const magnitude = decimalMagnitude(src, parts);
    if (magnitude !== undefined && (magnitude < safeMin || magnitude > safeMax)) {
      const value = round(Number(asBuffer(src).toString('latin1', i, e)));
      if (value === 0 || !Number.isFinite(value)) return reason;
    }
    copyBytes(src, i, e, out);
    return undefined;
  });
}

/** m such that the value lies in [10^(m-1), 10^m), or undefined for zero. */
function decimalMagnitude(src: Uint8Array, parts: DecimalParts): number | undefined {
  let k = parts.intStart;
  while (k < parts.intEnd && src[k] === 0x30 /* 0 */) k++;
  if (k < parts.intEnd) return parts.intEnd - k + parts.exponent;
  let f = parts.fracStart;
  while (f < parts.fracEnd && src[f] === 0x30 /* 0 */) f++;
  if (f === parts.fracEnd) return undefined;
  return parts.fracStart - f + parts.exponent;
}
