import { type Coercer, CopyTextBuffer } from '../copy-text.js';
import { failure, isSign, skipSpaces, trimEnd } from './bytes.js';
import { isDigit } from './decimal.js';

/** A number layout such as `1.234,56`: one decimal mark and an optional thousands separator. */
export interface NumberFormat {
  readonly source: string;
  /** The decimal mark (an ASCII byte). */
  readonly decimal: number;
  /** The thousands separator's UTF-8 bytes (e.g. a no-break space is two bytes), if any. */
  readonly group: Uint8Array | undefined;
}

/**
 * Reads a format like `1.234,56`, `1,234.56`, `1 234,56` or `1234,56`: the last separator is the
 * decimal mark, any earlier ones must all be the same thousands separator.
 */
export function parseNumberFormat(format: string): NumberFormat | string {
  const hint = 'e.g. 1.234,56 or 1,234.56';
  const separators: string[] = [];
  for (const ch of format.replace(/^[+-]/, '')) {
    if (ch >= '0' && ch <= '9') continue;
    if (/[\p{L}+\-\p{Cc}]/u.test(ch))
      return `number format "${format}" may only contain digits and separators (${hint})`;
    separators.push(ch);
  }
  const decimal = separators.pop();
  if (decimal === undefined) return `number format "${format}" has no decimal mark (${hint})`;
  if (decimal.length !== 1 || decimal.charCodeAt(0) > 0x7e || decimal === ' ') {
    return `number format "${format}" must use an ASCII character such as "." or "," as its decimal mark`;
  }
  const group = separators[0];
  if (separators.some((s) => s !== group)) {
    return `number format "${format}" mixes different thousands separators`;
  }
  if (group === decimal)
    return `number format "${format}" uses "${decimal}" both as decimal mark and thousands separator`;
  const parsed: NumberFormat = {
    source: format,
    decimal: decimal.charCodeAt(0),
    group: group === undefined ? undefined : Buffer.from(group, 'utf8'),
  };
  // The example must read as a number in its own layout (this catches e.g. `1,,234.5`).
  const example = Buffer.from(format, 'utf8');
  const readsItself = withNumberFormat(parsed, () => undefined)(
    example,
    0,
    example.length,
    new CopyTextBuffer(16),
  );
  if (readsItself !== undefined)
    return `number format "${format}" does not read as a number in its own layout`;
  return parsed;
}

/**
 * Rewrites a value written in `format` into the plain `-1234.56` form and hands it to `inner`.
 * Thousands separators must sit between groups of three digits so that, say, `1,5` in a
 * `1.234,56` column is never silently read as fifteen.
 */
export function withNumberFormat(format: NumberFormat, inner: Coercer): Coercer {
  const reason = `not a number in the format ${format.source}`;
  const { decimal, group } = format;
  let scratch = new Uint8Array(64);
  return (src, start, end, out) => {
    let i = skipSpaces(src, start, end);
    const e = trimEnd(src, i, end);
    if (e - i > scratch.length) scratch = new Uint8Array(2 * (e - i));
    let n = 0;
    if (i < e && isSign(src[i])) scratch[n++] = src[i++]!;
    let run = 0;
    let grouped = false;
    while (i < e) {
      const b = src[i]!;
      if (isDigit(b)) {
        scratch[n++] = b;
        run++;
        i++;
      } else if (group !== undefined && startsWith(src, i, e, group)) {
        if (run === 0 || run > 3 || (grouped && run !== 3)) return failure(src, start, end, reason);
        grouped = true;
        run = 0;
        i += group.length;
      } else {
        break;
      }
    }
    if (grouped && run !== 3) return failure(src, start, end, reason);
    if (i < e && src[i] === decimal) {
      scratch[n++] = 0x2e /* . */;
      i++;
    }
    // The rest (fraction digits, an exponent, or letters such as NaN) is for `inner` to judge;
    // only another separator is this format's business.
    while (i < e) {
      const b = src[i]!;
      if (!isDigit(b) && !isAsciiLetter(b) && !isSign(b)) return failure(src, start, end, reason);
      scratch[n++] = b;
      i++;
    }
    return inner(scratch, 0, n, out);
  };
}

function startsWith(src: Uint8Array, i: number, end: number, bytes: Uint8Array): boolean {
  if (end - i < bytes.length) return false;
  for (let k = 0; k < bytes.length; k++) if (src[i + k] !== bytes[k]) return false;
  return true;
}

function isAsciiLetter(b: number): boolean {
  const lower = b | 0x20;
  return lower >= 0x61 && lower <= 0x7a;
}
