import type { Coercer } from '../copy-text.js';
import { failure, skipSpaces, trimEnd } from './bytes.js';

const NOT_A_UUID = 'not a valid UUID';
const LOWER_HEX = Buffer.from('0123456789abcdef', 'latin1');

/** Hex digit value per byte, -1 for anything else. */
const HEX = new Int8Array(256).fill(-1);
for (let d = 0; d < 16; d++) {
  HEX[LOWER_HEX[d]!] = d;
  HEX['0123456789ABCDEF'.charCodeAt(d)] = d;
}

/** Where the hyphens go in the canonical 36-character form. */
const HYPHENS = [8, 13, 18, 23];

/**
 * `8-4-4-4-12` hex digits in any case, or 32 digits without hyphens, optionally in braces;
 * emitted in PostgreSQL's own lowercase hyphenated form.
 */
export function makeUuidCoercer(): Coercer {
  return (src, start, end, out) => {
    let i = skipSpaces(src, start, end);
    let e = trimEnd(src, i, end);
    if (e - i > 2 && src[i] === 0x7b /* { */ && src[e - 1] === 0x7d /* } */) {
      i++;
      e--;
    }
    const hyphenated = e - i === 36;
    if (!hyphenated && e - i !== 32) return failure(src, start, end, NOT_A_UUID);
    out.ensure(36);
    const buf = out.buf;
    let pos = out.pos;
    let hyphen = 0;
    for (let k = 0; i < e; k++, i++) {
      if (k === HYPHENS[hyphen]) {
        buf[pos++] = 0x2d /* - */;
        hyphen++;
        if (hyphenated) {
          if (src[i] !== 0x2d /* - */) return failure(src, start, end, NOT_A_UUID);
          continue;
        }
        k++;
      }
      const value = HEX[src[i]!]!;
      if (value < 0) return failure(src, start, end, NOT_A_UUID);
      buf[pos++] = LOWER_HEX[value]!;
    }
    out.pos = pos;
    return undefined;
  };
}
