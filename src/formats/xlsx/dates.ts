/**
 * Excel keeps dates as numbers ("serials"): days since an epoch, the time of day as the fraction.
 * Which numbers are dates only the cell's number format says. Two systems exist:
 * - 1900 (the default): serial 1 is 1900-01-01, and serial 60 is 1900-02-29, a day that never was
 *   (Lotus 1-2-3's leap-year bug, kept for compatibility), so serials from 61 on are one day ahead
 *   of a plain count: 61 is 1900-03-01.
 * - 1904 (`<workbookPr date1904="1"/>`, old Mac workbooks): serial 0 is 1904-01-01, no bug.
 */

import { dateText, TWO_DIGITS } from '../civil-date.js';

export type DateSystem = 1900 | 1904;

export type SerialText =
  | { readonly ok: true; readonly text: string; readonly hasDate: boolean; readonly hasTime: boolean }
  | { readonly ok: false; readonly reason: string };

const DAY_MS = 86_400_000;
/** The epochs as days since 1970-01-01; 1899-12-30 makes serials from 61 on come out right in the 1900 system. */
const EPOCH_1900_DAYS = Date.UTC(1899, 11, 30) / DAY_MS;
const EPOCH_1904_DAYS = Date.UTC(1904, 0, 1) / DAY_MS;

/**
 * A serial as ISO 8601 local date-time text: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.mmm]`, or
 * `HH:MM:SS[.mmm]` for a time of day alone (a serial below 1). Times are rounded to the millisecond,
 * which is as precise as Excel keeps them.
 */
export function serialText(serial: number, system: DateSystem): SerialText {
  if (!Number.isFinite(serial) || serial < 0)
    return { ok: false, reason: `is ${serial}, not a date Excel can show` };
  let whole = Math.floor(serial);
  let ms = Math.round((serial - whole) * DAY_MS);
  if (ms === DAY_MS) {
    whole += 1;
    ms = 0;
  }
  const time = ms === 0 ? '' : timeOfDay(ms);
  if (whole === 0 && system === 1900) {
    // Excel shows 1900-01-00: a time of day without a date.
    return { ok: true, text: time || '00:00:00', hasDate: false, hasTime: true };
  }
  if (system === 1900 && whole === 60) {
    return { ok: false, reason: "is 1900-02-29, a day that does not exist (Excel's 1900 leap-year bug)" };
  }
  const date = dateText(
    system === 1904 ? EPOCH_1904_DAYS + whole : EPOCH_1900_DAYS + (whole < 60 ? whole + 1 : whole),
  );
  if (date.length !== 'YYYY-MM-DD'.length) {
    return { ok: false, reason: `is ${serial}, past the last date Excel can show (9999-12-31)` };
  }
  return { ok: true, text: time ? `${date}T${time}` : date, hasDate: true, hasTime: time !== '' };
}

/** HH:MM:SS, plus .mmm when there are milliseconds. */
function timeOfDay(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const millis = ms - seconds * 1000;
  const hms = `${TWO_DIGITS[Math.floor(seconds / 3600)]}:${TWO_DIGITS[Math.floor(seconds / 60) % 60]}:${TWO_DIGITS[seconds % 60]}`;
  return millis === 0 ? hms : `${hms}.${String(millis).padStart(3, '0')}`;
}

/** What a number format shows: a date, a time, both, or a plain number. */
export type FormatKind = 'number' | 'date' | 'datetime' | 'time';

/** Excel's built-in number formats that show dates or times (ECMA-376 18.8.30, plus common locale ids). */
const BUILT_IN: Record<number, FormatKind> = {
  14: 'date',
  15: 'date',
  16: 'date',
  17: 'date',
  18: 'time',
  19: 'time',
  20: 'time',
  21: 'time',
  22: 'datetime',
  27: 'date',
  28: 'date',
  29: 'date',
  30: 'date',
  31: 'date',
  32: 'time',
  33: 'time',
  34: 'time',
  35: 'time',
  36: 'date',
  45: 'time',
  46: 'time',
  47: 'time',
  50: 'date',
  51: 'date',
  52: 'date',
  53: 'date',
  54: 'date',
  55: 'date',
  56: 'date',
  57: 'date',
  58: 'date',
};

export function builtInFormatKind(id: number): FormatKind {
  return BUILT_IN[id] ?? 'number';
}

/**
 * Whether a custom format code shows a date or time: after removing quoted text, escapes, colours
 * and conditions (`"Total" 0`, `\d`, `[Red]`, `[>=100]`), it holds date letters (y, d, or m next to
 * them) or time letters (h, s, AM/PM, elapsed `[h]`). Only the first section (positive numbers) counts.
 */
export function customFormatKind(code: string): FormatKind {
  const first = code.split(';')[0] ?? '';
  const elapsed = /\[(h+|m+|s+)\]/i.test(first);
  const cleaned = first
    .replace(/"[^"]*"/g, '')
    .replace(/\\./g, '')
    .replace(/_./g, '')
    .replace(/\*./g, '')
    .replace(/\[[^\]]*\]/g, '')
    .toLowerCase();
  const hasDate = /[yd]/.test(cleaned) || /(^|[^h:])m+([^:s]|$)/.test(cleaned.replace(/am\/pm|a\/p/g, ''));
  const hasTime = elapsed || /[hs]/.test(cleaned) || /am\/pm|a\/p/.test(cleaned);
  if (/[yd]/.test(cleaned) && hasTime) return 'datetime';
  if (/[yd]/.test(cleaned)) return 'date';
  if (hasTime) return 'time';
  return hasDate ? 'date' : 'number';
}
