import { beyondNumericLimits, newDecimalParts, scanDecimal } from './decimal.js';

/** Deeper nesting risks PostgreSQL's stack depth limit, which would abort the whole COPY. */
const MAX_JSON_DEPTH = 1000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const parts = newDecimalParts();

/**
 * What PostgreSQL's jsonb input refuses in JSON that JSON.parse accepts: the `\u0000` escape, an
 * unpaired UTF-16 surrogate escape, numbers beyond numeric's range, and very deep nesting.
 * `src[start, end)` must already be valid JSON, so the scan only tracks strings, escapes,
 * numbers and brackets.
 */
export function postgresJsonProblem(src: Uint8Array, start: number, end: number): string | undefined {
  let depth = 0;
  let i = start;
  while (i < end) {
    const b = src[i]!;
    if (b === QUOTE) {
      const after = skipString(src, i + 1, end);
      if (typeof after === 'string') return after;
      i = after;
    } else if (b === 0x5b || b === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH} levels`;
      i++;
    } else if (b === 0x5d || b === 0x7d) {
      depth--;
      i++;
    } else if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      const after = scanDecimal(src, i, end, parts);
      if (beyondNumericLimits(src, parts)) return 'contains a number out of range for PostgreSQL numeric';
      // JSON.parse already vouched for the number, so `after` is past it; the guard is for safety.
      i = after > i ? after : i + 1;
    } else {
      i++;
    }
  }
  return undefined;
}

/** Index after the closing quote of the string whose content starts at `i`, or a reason. */
function skipString(src: Uint8Array, i: number, end: number): number | string {
  while (i < end) {
    const b = src[i]!;
    if (b === QUOTE) return i + 1;
    if (b !== BACKSLASH) {
      i++;
      continue;
    }
    if (src[i + 1] !== 0x75) {
      i += 2;
      continue;
    }
    const unit = hex4(src, i + 2);
    if (unit === 0) return 'contains \\u0000, which PostgreSQL jsonb cannot store';
    i += 6;
    if (unit >= 0xdc00 && unit <= 0xdfff) return unpaired(unit);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = src[i] === BACKSLASH && src[i + 1] === 0x75 ? hex4(src, i + 2) : -1;
      if (low < 0xdc00 || low > 0xdfff) return unpaired(unit);
      i += 6;
    }
  }
  return i;
}

function unpaired(unit: number): string {
  return `contains an unpaired surrogate escape \\u${unit.toString(16).toUpperCase()}, which PostgreSQL rejects`;
}

function hex4(src: Uint8Array, i: number): number {
  let value = 0;
  for (let k = 0; k < 4; k++) {
    const b = src[i + k]! | 0x20;
    const d = b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x61 + 10 : -1;
    if (d < 0) return -1;
    value = value * 16 + d;
  }
  return value;
}
