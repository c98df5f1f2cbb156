import type { Coercer } from '../copy-text.js';
import { failure, skipSpaces, trimEnd } from './bytes.js';

const NOT_A_BOOLEAN = 'not a boolean (expected true/false, t/f, yes/no, 1/0)';

/**
 * true/false, t/f, yes/no, 1/0 in any case, emitted as PostgreSQL's own `t` / `f`, or with `binary`
 * as boolsend's one byte, 1 or 0: the same reading and reasons either way.
 */
export function makeBooleanCoercer(binary = false): Coercer {
  return (src, start, end, out) => {
    const i = skipSpaces(src, start, end);
    const e = trimEnd(src, i, end);
    const value = readBoolean(src, i, e - i);
    if (value === 0) return failure(src, start, end, NOT_A_BOOLEAN);
    out.ensure(1);
    out.buf[out.pos++] = binary ? (value === 0x74 /* t */ ? 1 : 0) : value;
    return undefined;
  };
}

/** `t` or `f` as a byte, or 0 when the bytes spell no boolean. OR 0x20 lowercases ASCII letters. */
function readBoolean(src: Uint8Array, i: number, length: number): number {
  const a = src[i]! | 0x20;
  switch (length) {
    case 1: {
      // t, f, 1, 0
      const b = src[i]!;
      if (a === 0x74 /* t */ || b === 0x31 /* 1 */) return 0x74 /* t */;
      if (a === 0x66 /* f */ || b === 0x30 /* 0 */) return 0x66 /* f */;
      return 0;
    }
    case 2: // no
      return a === 0x6e && (src[i + 1]! | 0x20) === 0x6f ? 0x66 /* f */ : 0;
    case 3: // yes
      return a === 0x79 && (src[i + 1]! | 0x20) === 0x65 && (src[i + 2]! | 0x20) === 0x73 ? 0x74 /* t */ : 0;
    case 4: // true
      return a === 0x74 /* t */ &&
        (src[i + 1]! | 0x20) === 0x72 &&
        (src[i + 2]! | 0x20) === 0x75 &&
        (src[i + 3]! | 0x20) === 0x65
        ? 0x74 /* t */
        : 0;
    case 5: // false
      return a === 0x66 /* f */ &&
        (src[i + 1]! | 0x20) === 0x61 &&
        (src[i + 2]! | 0x20) === 0x6c &&
        (src[i + 3]! | 0x20) === 0x73 &&
        (src[i + 4]! | 0x20) === 0x65
        ? 0x66 /* f */
        : 0;
    default:
      return 0;
  }
}
