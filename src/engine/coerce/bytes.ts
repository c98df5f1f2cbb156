// Shared byte helpers for the coercers.
//
// Byte values in hot code are written as literals with the character in a comment, e.g.
// `src[i] === 0x2d /* - */`, rather than as named constants: V8 in Node 20 does not fold imported
// or module-level `const`s, and loading them measured about 20% slower on the integer path.
import type { CopyTextBuffer } from '../copy-text.js';

export const NUL_REASON = 'contains a NUL byte';

/** Index of the first byte at or after `start` that is not an ASCII space. */
export function skipSpaces(src: Uint8Array, start: number, end: number): number {
  while (start < end && src[start] === 0x20 /* ' ' */) start++;
  return start;
}

/** End index once trailing ASCII spaces are dropped (never below `start`). */
export function trimEnd(src: Uint8Array, start: number, end: number): number {
  while (end > start && src[end - 1] === 0x20 /* ' ' */) end--;
  return end;
}

/**
 * The reason to report for a value that failed to parse. Parsers never accept a NUL byte (it is no
 * digit, letter or separator), so checking for one only here keeps the success path free of a scan.
 */
export function failure(src: Uint8Array, start: number, end: number, reason: string): string {
  for (let i = start; i < end; i++) if (src[i] === 0) return NUL_REASON;
  return reason;
}

/** True for '+' (0x2b) and '-' (0x2d). */
export function isSign(b: number | undefined): boolean {
  return b === 0x2b || b === 0x2d;
}

/** Two ASCII digits at `i` as a number, or -1. Callers check `i + 2 <= end` first. */
export function twoDigits(src: Uint8Array, i: number): number {
  const a = src[i]! - 0x30 /* 0 */;
  const b = src[i + 1]! - 0x30 /* 0 */;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Four ASCII digits at `i` as a number, or -1. Callers check `i + 4 <= end` first. */
export function fourDigits(src: Uint8Array, i: number): number {
  const hi = twoDigits(src, i);
  const lo = twoDigits(src, i + 2);
  return hi < 0 || lo < 0 ? -1 : hi * 100 + lo;
}

/** Appends `src[start, end)` unchanged; callers have checked it needs no COPY escaping. */
export function copyBytes(src: Uint8Array, start: number, end: number, out: CopyTextBuffer): void {
  out.ensure(end - start);
  const buf = out.buf;
  let pos = out.pos;
  for (let i = start; i < end; i++) buf[pos++] = src[i]!;
  out.pos = pos;
}

/** ASCII digits of 00..99, two bytes each: a table lookup is cheaper than dividing. */
const PAIRS = Buffer.from(
  Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0')).join(''),
  'latin1',
);

/** Writes `value` (0..99) as two digits at `pos`. */
export function put2(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = PAIRS[2 * value]!;
  buf[pos + 1] = PAIRS[2 * value + 1]!;
}

/** Writes `value` (0..9999) as four digits at `pos`. */
export function put4(buf: Uint8Array, pos: number, value: number): void {
  const hi = (value / 100) | 0;
  put2(buf, pos, hi);
  put2(buf, pos + 2, value - hi * 100);
}

/**
 * True when `src[i, end)` is `lower` in any ASCII case. `lower` must be letters only: OR-ing 0x20
 * folds case for letters but would also make e.g. a carriage return match '-'.
 */
export function equalsIgnoreCase(src: Uint8Array, i: number, end: number, lower: string): boolean {
  if (end - i !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) {
    if ((src[i + k]! | 0x20) !== lower.charCodeAt(k)) return false;
  }
  return true;
}

/** A Buffer view of `src` (no copy), for the few paths that decode text. */
export function asBuffer(src: Uint8Array): Buffer {
  return Buffer.isBuffer(src) ? src : Buffer.from(src.buffer, src.byteOffset, src.byteLength);
}
