import type { CopyTextBuffer } from '../copy-text.js';
import { NEGATIVE, POSITIVE, writeNumericHeader } from './binary-numeric.js';

/**
 * The numeric(p,s) literal most files hold (`1234.5`, `-0.25`: digits, at most `scale` fraction
 * digits, no exponent, sign or spaces beyond a leading minus) straight to numeric_send's layout, in
 * one pass over the bytes. Everything else (rounding, exponents, NaN, spaces, overflow, errors) returns
 * false untouched, for the text coercer and encodeNumeric, whose result this equals by construction
 * (test/unit/engine/coerce/binary-plain.test.ts compares the two).
 */
export function makePlainNumericEncoder(
  precision: number,
  scale: number,
): (src: Uint8Array, start: number, end: number, out: CopyTextBuffer) => boolean {
  const maxIntegerDigits = precision - scale;
  // Base-10000 digits of the value before trimming: the integer part's, then the fraction's.
  const groups = new Uint16Array(Math.ceil(maxIntegerDigits / 4) + Math.ceil(scale / 4) + 2);
  return (src, start, end, out) => {
    let i = start;
    const negative = i < end && src[i] === 0x2d; /* - */
    if (negative) i++;
    while (i < end && src[i] === 0x30 /* 0 */) i++;
    const intStart = i;
    while (i < end && isDigit(src[i]!)) i++;
    const intEnd = i;
    // At least one integer digit, zeros included (".5" and "-" take the text path).
    if (intEnd === start + (negative ? 1 : 0)) return false;
    if (intEnd - intStart > maxIntegerDigits) return false;
    let fracStart = i;
    let fracEnd = i;
    if (i < end && src[i] === 0x2e /* . */) {
      fracStart = ++i;
      while (i < end && isDigit(src[i]!)) i++;
      fracEnd = i;
      if (fracEnd === fracStart || fracEnd - fracStart > scale) return false;
    }
    if (i !== end) return false;

    let n = 0;
    // Integer groups end at the point: the first takes the digits left over from fours.
    let group = 0;
    let inGroup = (intEnd - intStart) % 4 || 4;
    for (let k = intStart; k < intEnd; k++) {
      group = group * 10 + src[k]! - 0x30; /* 0 */
      if (--inGroup === 0) {
        groups[n++] = group;
        group = 0;
        inGroup = 4;
      }
    }
    const intGroups = n;
    // Fraction groups start at the point; the last is padded with zeros on the right.
    group = 0;
    inGroup = 4;
    for (let k = fracStart; k < fracEnd; k++) {
      group = group * 10 + src[k]! - 0x30; /* 0 */
      if (--inGroup === 0) {
        groups[n++] = group;
        group = 0;
        inGroup = 4;
      }
    }
    if (inGroup !== 4) {
      while (inGroup-- > 0) group *= 10;
      groups[n++] = group;
    }
    let first = 0;
    while (first < n && groups[first] === 0) first++;
    let last = n - 1;
    while (last >= first && groups[last] === 0) last--;
    const ndigits = last - first + 1;
    // The group just left of the point has weight 0.
    const weight = ndigits === 0 ? 0 : intGroups - 1 - first;
    out.ensure(8 + 2 * ndigits);
    // numeric_send writes zero as positive, whatever its sign.
    writeNumericHeader(out, ndigits, weight, negative && ndigits > 0 ? NEGATIVE : POSITIVE, scale);
    const buf = out.buf;
    let pos = out.pos;
    for (let g = first; g <= last; g++) {
      const value = groups[g]!;
      buf[pos++] = value >> 8;
      buf[pos++] = value & 0xff;
    }
    out.pos = pos;
    return true;
  };
}

function isDigit(b: number): boolean {
  return b >= 0x30 /* 0 */ && b <= 0x39 /* 9 */;
}
