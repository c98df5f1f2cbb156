import type { CopyTextBuffer } from '../copy-text.js';
import { put32, putInt64 } from './binary-int.js';
import type { IntegerKind } from './integer.js';

/** Digits that always fit the type (and a double, exactly): a longer value takes the general path. */
const FAST_DIGITS: Record<IntegerKind, number> = { smallint: 4, integer: 9, bigint: 15 };
const WIDTH: Record<IntegerKind, number> = { smallint: 2, integer: 4, bigint: 8 };

/**
 * The integer most files hold (`-?digits`, short enough to be in range whatever they are) straight to its
 * binary COPY bytes, in one pass. Everything else (spaces, `+`, long values, errors) returns false
 * untouched, for the text coercer and its transcoder, whose result this equals
 * (test/unit/engine/coerce/binary-plain.test.ts compares the two).
 */
export function makePlainIntegerEncoder(
  kind: IntegerKind,
): (src: Uint8Array, start: number, end: number, out: CopyTextBuffer) => boolean {
  const maxDigits = FAST_DIGITS[kind];
  const width = WIDTH[kind];
  return (src, start, end, out) => {
    const negative = start < end && src[start] === 0x2d; /* - */
    const first = negative ? start + 1 : start;
    if (first === end || end - first > maxDigits) return false;
    let value = 0;
    for (let i = first; i < end; i++) {
      const digit = src[i]! - 0x30; /* 0 */
      if (digit < 0 || digit > 9) return false;
      value = value * 10 + digit;
    }
    if (negative) value = -value;
    out.ensure(width);
    const buf = out.buf;
    const pos = out.pos;
    if (width === 8) putInt64(buf, pos, value);
    else if (width === 4) put32(buf, pos, value);
    else {
      buf[pos] = (value >> 8) & 0xff;
      buf[pos + 1] = value & 0xff;
    }
    out.pos = pos + width;
    return true;
  };
}
