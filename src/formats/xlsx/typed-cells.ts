/**
 * What the XLSX converter needs to hand cells over as bytes: the shared strings as one UTF-8 buffer
 * (encoded once per workbook rather than once per cell that uses them), and an Excel serial written as
 * its ISO 8601 text straight into a buffer, byte for byte what `serialText` gives.
 */
import { dateText, LAST_DAY, TWO_DIGITS } from '../civil-date.js';
import type { DateSystem } from './dates.js';

export interface SharedStringsUtf8 {
  readonly bytes: Buffer;
  /** String i is bytes [offsets[i], offsets[i + 1]). */
  readonly offsets: Int32Array;
  /** 1 for a string with a NUL character: it takes the text path, which says so in its own words. */
  readonly nul: Uint8Array;
}

const ENCODED = new WeakMap<readonly string[], SharedStringsUtf8>();

/** The workbook's shared strings as UTF-8, encoded on first use and kept beside them. */
export function sharedStringsUtf8(strings: readonly string[]): SharedStringsUtf8 {
  let encoded = ENCODED.get(strings);
  if (encoded === undefined) {
    const offsets = new Int32Array(strings.length + 1);
    const nul = new Uint8Array(strings.length);
    let total = 0;
    for (let i = 0; i < strings.length; i++) {
      const text = strings[i] as string;
      total += Buffer.byteLength(text);
      offsets[i + 1] = total;
      if (text.includes('\u0000')) nul[i] = 1;
    }
    const bytes = Buffer.allocUnsafe(total);
    for (let i = 0; i < strings.length; i++) bytes.write(strings[i] as string, offsets[i] as number);
    encoded = { bytes, offsets, nul };
    ENCODED.set(strings, encoded);
  }
  return encoded;
}

/** Node's latin1 encoder without Buffer#write's argument parsing; @types/node does not list it. */
type Latin1Writing = Buffer & { latin1Write(text: string, offset: number): number };

const DAY_MS = 86_400_000;
const EPOCH_1900_DAYS = Date.UTC(1899, 11, 30) / DAY_MS;
const EPOCH_1904_DAYS = Date.UTC(1904, 0, 1) / DAY_MS;

/**
 * An Excel serial with a date (1900-03-01 or later in the 1900 system, any in the 1904 one) up to
 * 9999-12-31, as `YYYY-MM-DD[THH:MM:SS[.mmm]]` written into `out` (32 bytes or more); returns its
 * length, or -1 for every other serial (a time of day alone, 1900-02-29, out of range, not a
 * number), which `serialText` handles and explains.
 */
export function writeSerial(serial: number, system: DateSystem, buffer: Buffer): number {
  const out = buffer as Latin1Writing;
  if (!(serial >= 0 && serial < Number.POSITIVE_INFINITY)) return -1;
  let whole = Math.floor(serial);
  let ms = Math.round((serial - whole) * DAY_MS);
  if (ms === DAY_MS) {
    whole += 1;
    ms = 0;
  }
  if (system === 1900 && whole <= 60) return -1;
  const days = (system === 1904 ? EPOCH_1904_DAYS : EPOCH_1900_DAYS) + whole;
  if (days > LAST_DAY) return -1;
  let at = out.latin1Write(dateText(days), 0);
  if (ms === 0) return at;
  const seconds = Math.floor(ms / 1000);
  const millis = ms - seconds * 1000;
  out[at++] = 0x54; // T
  at += out.latin1Write(TWO_DIGITS[Math.floor(seconds / 3600)] as string, at);
  out[at++] = 0x3a;
  at += out.latin1Write(TWO_DIGITS[Math.floor(seconds / 60) % 60] as string, at);
  out[at++] = 0x3a;
  at += out.latin1Write(TWO_DIGITS[seconds % 60] as string, at);
  if (millis !== 0) {
    out[at++] = 0x2e;
    out[at++] = 0x30 + Math.floor(millis / 100);
    out[at++] = 0x30 + (Math.floor(millis / 10) % 10);
    out[at++] = 0x30 + (millis % 10);
  }
  return at;
}
