import type { CopyTextBuffer } from '../copy-text.js';
import { firstSignificant, mantissaDigit, newDecimalParts, scanDecimal } from './decimal.js';

/** numeric_send's sign word for positive, negative, NaN, +Infinity and −Infinity. */
export const POSITIVE = 0x0000;
export const NEGATIVE = 0x4000;
const NAN = 0xc000;
const PLUS_INFINITY = 0xd000;
const MINUS_INFINITY = 0xf000;

const parts = newDecimalParts();

/**
 * Writes numeric_send's layout for the numeric coercers' text output: `NaN`, `Infinity`,
 * `-Infinity`, or a literal they vouched for (unconstrained columns pass the input through,
 * numeric(p,s) writes it rounded to s or unchanged when it already fits). The value travels as
 * base-10000 digits aligned on the decimal point, without leading or trailing zero groups.
 */
export function encodeNumeric(
  text: Buffer,
  length: number,
  unconstrained: boolean,
  scale: number | undefined,
  out: CopyTextBuffer,
): void {
  if (scanDecimal(text, 0, length, parts) !== length) {
    const sign = text[0] === 0x4e /* N */ ? NAN : text[0] === 0x2d /* - */ ? MINUS_INFINITY : PLUS_INFINITY;
    writeNumericHeader(out, 0, 0, sign, 0);
    return;
  }
  const fractionDigits = parts.fracEnd - parts.fracStart;
  // What numeric_in keeps as display scale: the written fraction digits, shifted by the exponent;
  // a typmod replaces it with its scale.
  const dscale = unconstrained ? Math.max(0, fractionDigits - parts.exponent) : Math.max(0, scale ?? 0);
  const mantissa = parts.intEnd - parts.intStart + fractionDigits;
  const first = firstSignificant(text, parts);
  if (first === mantissa) {
    writeNumericHeader(out, 0, 0, POSITIVE, dscale);
    return;
  }
  let last = mantissa - 1;
  while (mantissaDigit(text, parts, last) === 0) last--;
  // Mantissa digit k has place value 10^(point - 1 - k); a group g holds places 4g .. 4g+3.
  const point = parts.intEnd - parts.intStart + parts.exponent;
  const weight = Math.floor((point - 1 - first) / 4);
  const lowest = Math.floor((point - 1 - last) / 4);
  const ndigits = weight - lowest + 1;
  writeNumericHeader(out, ndigits, weight, parts.negative ? NEGATIVE : POSITIVE, dscale);
  out.ensure(2 * ndigits);
  const buf = out.buf;
  let pos = out.pos;
  // k is the mantissa position of each group's most significant place, 4g+3.
  let k = point - 1 - 4 * weight - 3;
  for (let g = 0; g < ndigits; g++, k += 4) {
    const group =
      mantissaDigit(text, parts, k) * 1000 +
      mantissaDigit(text, parts, k + 1) * 100 +
      mantissaDigit(text, parts, k + 2) * 10 +
      mantissaDigit(text, parts, k + 3);
    buf[pos++] = group >> 8;
    buf[pos++] = group & 0xff;
  }
  out.pos = pos;
}

/**
 * numeric_send's header: digit count, weight of the first base-10000 digit, sign word, display scale.
 * The plain and typed fast paths write through it too, so the layout lives here alone.
 */
export function writeNumericHeader(
  out: CopyTextBuffer,
  ndigits: number,
  weight: number,
  sign: number,
  dscale: number,
): void {
  out.ensure(8);
  const buf = out.buf;
  const pos = out.pos;
  buf[pos] = ndigits >> 8;
  buf[pos + 1] = ndigits & 0xff;
  buf[pos + 2] = (weight >> 8) & 0xff;
  buf[pos + 3] = weight & 0xff;
  buf[pos + 4] = sign >> 8;
  buf[pos + 5] = 0;
  buf[pos + 6] = dscale >> 8;
  buf[pos + 7] = dscale & 0xff;
  out.pos = pos + 8;
}
