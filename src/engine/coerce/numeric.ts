import type { Coercer, CopyTextBuffer } from '../copy-text.js';
import { copyBytes, failure, skipSpaces, trimEnd } from './bytes.js';
import {
  beyondNumericLimits,
  type DecimalParts,
  decimalLiteralCoercer,
  firstSignificant,
  MAX_EXPONENT,
  mantissaDigit,
  matchSpecial,
  NOT_A_NUMBER,
  newDecimalParts,
  scanDecimal,
} from './decimal.js';

export { NOT_A_NUMBER } from './decimal.js';

const OUT_OF_RANGE = 'out of range for numeric';

/** numeric without (p,s): any literal within PostgreSQL's limits, plus NaN and ±Infinity. */
export function makeNumericCoercer(): Coercer {
  const parts = newDecimalParts();
  return decimalLiteralCoercer(parts, (src, i, e, out) => {
    if (beyondNumericLimits(src, parts)) return OUT_OF_RANGE;
    // PostgreSQL reads every form scanDecimal accepts (`+.5`, `5.`, `1e3`), so copy as is.
    copyBytes(src, i, e, out);
    return undefined;
  });
}

/**
 * numeric(p,s): rounds half away from zero to `scale` fraction digits, as PostgreSQL does, and
 * rejects values whose rounded form has more than p−s integer digits. Rounding here rather than in
 * PostgreSQL means an overflow is a rejected row instead of an aborted COPY.
 */
export function makeScaledNumericCoercer(precision: number, scale: number): Coercer {
  const parts = newDecimalParts();
  const maxIntegerDigits = precision - scale;
  const sql = `numeric(${precision},${scale})`;
  const overflow =
    maxIntegerDigits === 0
      ? `numeric field overflow: must round to less than 1 in absolute value (${sql})`
      : `numeric field overflow: at most ${maxIntegerDigits} digit${maxIntegerDigits === 1 ? '' : 's'} before the decimal point (${sql})`;
  const specialReason = `NaN and Infinity are not allowed in ${sql}`;
  // Room for every kept digit plus one carried out of the top.
  const digits = new Uint8Array(precision + 1);

  return (src, start, end, out) => {
    const i = skipSpaces(src, start, end);
    const e = trimEnd(src, i, end);
    if (scanDecimal(src, i, e, parts) !== e) {
      return matchSpecial(src, i, e) === undefined ? failure(src, start, end, NOT_A_NUMBER) : specialReason;
    }
    if (parts.exponent > MAX_EXPONENT || parts.exponent < -MAX_EXPONENT) return OUT_OF_RANGE;
    if (parts.exponent === 0 && parts.fracEnd - parts.fracStart <= scale) {
      let sig = parts.intStart;
      while (sig < parts.intEnd && src[sig] === 0x30 /* 0 */) sig++;
      if (parts.intEnd - sig > maxIntegerDigits) return overflow;
      copyBytes(src, i, e, out);
      return undefined;
    }
    return writeRounded(src, parts, scale, maxIntegerDigits, digits, out) ? undefined : overflow;
  };
}

/**
 * Rounds the scanned literal to `scale` fraction digits and writes it; false on overflow.
 * Works on mantissa positions: position k is the k-th digit of integer-then-fraction digits, and
 * the decimal point sits before position `point` once the exponent is applied.
 */
function writeRounded(
  src: Uint8Array,
  parts: DecimalParts,
  scale: number,
  maxIntegerDigits: number,
  digits: Uint8Array,
  out: CopyTextBuffer,
): boolean {
  const length = parts.intEnd - parts.intStart + parts.fracEnd - parts.fracStart;
  const first = firstSignificant(src, parts);
  const point = parts.intEnd - parts.intStart + parts.exponent;
  if (first === length) {
    writeZero(scale, out);
    return true;
  }
  // Rounding can only add digits, so this bounds the work (and `digits`) before any copying.
  if (point - first > maxIntegerDigits) return false;
  const from = Math.min(first, point);
  const keep = point + scale;
  let n = 0;
  for (let k = from; k < keep; k++) digits[n++] = mantissaDigit(src, parts, k);
  let carry = mantissaDigit(src, parts, keep) >= 5 ? 1 : 0;
  for (let j = n - 1; j >= 0 && carry === 1; j--) {
    if (digits[j] === 9) {
      digits[j] = 0;
    } else {
      digits[j] = digits[j]! + 1;
      carry = 0;
    }
  }
  const integerDigits = point - from;
  if (integerDigits + carry > maxIntegerDigits) return false;
  let zero = carry === 0;
  for (let j = 0; j < n && zero; j++) zero = digits[j] === 0;
  if (zero) {
    writeZero(scale, out);
    return true;
  }
  out.ensure(n + 3);
  const buf = out.buf;
  let pos = out.pos;
  if (parts.negative) buf[pos++] = 0x2d /* - */;
  if (carry === 1) buf[pos++] = 0x31 /* 1 */;
  else if (integerDigits === 0) buf[pos++] = 0x30 /* 0 */;
  for (let j = 0; j < integerDigits; j++) buf[pos++] = 0x30 /* 0 */ + digits[j]!;
  if (scale > 0) {
    buf[pos++] = 0x2e /* . */;
    for (let j = integerDigits; j < n; j++) buf[pos++] = 0x30 /* 0 */ + digits[j]!;
  }
  out.pos = pos;
  return true;
}

/** Zero at the column's scale; a negative value that rounds to zero loses its sign, as in PostgreSQL. */
function writeZero(scale: number, out: CopyTextBuffer): void {
  out.ensure(scale + 2);
  const buf = out.buf;
  let pos = out.pos;
  buf[pos++] = 0x30 /* 0 */;
  if (scale > 0) {
    buf[pos++] = 0x2e /* . */;
    for (let j = 0; j < scale; j++) buf[pos++] = 0x30 /* 0 */;
  }
  out.pos = pos;
}
