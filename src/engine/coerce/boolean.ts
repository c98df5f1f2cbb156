import type { Coercer } from '../copy-text.js';
import { failure, skipSpaces, trimEnd } from './bytes.js';

const NOT_A_BOOLEAN = 'not a boolean (expected true/false, t/f, yes/no, 1/0)';
const TRUE = 0x74;
const FALSE = 0x66;

/** true/false, t/f, yes/no, 1/0 in any case, emitted as PostgreSQL's own `t` / `f`. */
export function makeBooleanCoercer(): Coercer {
  return (src, start, end, out) => {
    const i = skipSpaces(src, start, end);
    const e = trimEnd(src, i, end);
    const value = readBoolean(src, i, e - i);
    if (value === 0) return failure(src, start, end, NOT_A_BOOLEAN);
    out.ensure(1);
    out.buf[out.pos++] = value;
    return undefined;
  };
}

/** `t` or `f` as a byte, or 0 when the bytes spell no boolean. OR 0x20 lowercases ASCII letters. */
function readBoolean(src: Uint8Array, i: number, length: number): number {
  const a = src[i]! | 0x20;
  switch (length) {
    case 1: {
      const b = src[i]!;
      if (a === TRUE || b === 0x31) return TRUE;
      if (a === FALSE || b === 0x30) return FALSE;
      return 0;
    }
    case 2:
      return a === 0x6e && (src[i + 1]! | 0x20) === 0x6f ? FALSE : 0;
    case 3:
      return a === 0x79 && (src[i + 1]! | 0x20) === 0x65 && (src[i + 2]! | 0x20) === 0x73 ? TRUE : 0;
    case 4:
      return a === TRUE &&
        (src[i + 1]! | 0x20) === 0x72 &&
        (src[i + 2]! | 0x20) === 0x75 &&
        (src[i + 3]! | 0x20) === 0x65
        ? TRUE
        : 0;
    case 5:
      return a === FALSE &&
        (src[i + 1]! | 0x20) === 0x61 &&
        (src[i + 2]! | 0x20) === 0x6c &&
        (src[i + 3]! | 0x20) === 0x73 &&
        (src[i + 4]! | 0x20) === 0x65
        ? FALSE
        : 0;
    default:
      return 0;
  }
}
