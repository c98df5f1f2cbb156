import type { Coercer } from '../copy-text.js';
import { NUL_REASON } from './bytes.js';

/**
 * For each byte: 0 to copy it as is, 0xff for the NUL byte, otherwise the letter that follows a
 * backslash in its COPY text escape.
 */
const ESCAPES = new Uint8Array(256);
ESCAPES[0x00] = 0xff;
ESCAPES[0x09] = 0x74; // \t
ESCAPES[0x0a] = 0x6e; // \n
ESCAPES[0x0d] = 0x72; // \r
ESCAPES[0x5c] = 0x5c; // \\

/**
 * The table for binary COPY, where a field is length-prefixed and its bytes go as they are; NUL
 * is still refused because PostgreSQL's text types cannot hold it in either format.
 */
export const NO_ESCAPES = new Uint8Array(256);
NO_ESCAPES[0x00] = 0xff;

/**
 * text in binary COPY: the bytes go as they are, so the loop only looks for NUL (which PostgreSQL's
 * text types cannot hold in either format). A third of the binary encoder's time went to the
 * escape-table lookup before this had a loop of its own.
 */
export function makeRawTextCoercer(): Coercer {
  return (src, start, end, out) => {
    out.ensure(end - start);
    const buf = out.buf;
    let pos = out.pos;
    for (let i = start; i < end; i++) {
      const b = src[i]!;
      if (b === 0) return NUL_REASON;
      buf[pos++] = b;
    }
    out.pos = pos;
    return undefined;
  };
}

/** text and unbounded varchar: spaces are data, so nothing is trimmed. */
export function makeTextCoercer(escapes: Uint8Array = ESCAPES): Coercer {
  return (src, start, end, out) => {
    out.ensure((end - start) * 2);
    const buf = out.buf;
    let pos = out.pos;
    for (let i = start; i < end; i++) {
      const b = src[i]!;
      const letter = escapes[b]!;
      if (letter === 0) {
        buf[pos++] = b;
      } else if (letter === 0xff /* NUL */) {
        return NUL_REASON;
      } else {
        buf[pos++] = 0x5c /* \\ */;
        buf[pos++] = letter;
      }
    }
    out.pos = pos;
    return undefined;
  };
}

/**
 * varchar(n): like text, and counts characters as PostgreSQL does (code points: every byte that
 * is not a UTF-8 continuation byte 0x80–0xBF starts one). Longer values are rejected rather than
 * truncated, even where PostgreSQL would silently drop trailing spaces.
 */
export function makeVarcharCoercer(length: number, escapes: Uint8Array = ESCAPES): Coercer {
  const tooLong = `longer than ${length} characters (varchar(${length}))`;
  return (src, start, end, out) => {
    out.ensure((end - start) * 2);
    const buf = out.buf;
    let pos = out.pos;
    let chars = 0;
    for (let i = start; i < end; i++) {
      const b = src[i]!;
      if ((b & 0xc0) !== 0x80) chars++;
      const letter = escapes[b]!;
      if (letter === 0) {
        buf[pos++] = b;
      } else if (letter === 0xff /* NUL */) {
        return NUL_REASON;
      } else {
        buf[pos++] = 0x5c /* \\ */;
        buf[pos++] = letter;
      }
    }
    if (chars > length) return tooLong;
    out.pos = pos;
    return undefined;
  };
}
