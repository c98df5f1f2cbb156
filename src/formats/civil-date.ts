/**
 * Calendar dates from day numbers (days since 1970-01-01) as ISO 8601 text, for the binary formats
 * whose dates are counts (Parquet's DATE and TIMESTAMP, Excel's serials). Integer arithmetic and a
 * small cache: a column's dates mostly fall on a few days, and Date objects cost far more per value.
 */

import { type CivilDate, civilFromDays } from '../model/calendar.js';

const DAY_MS = 86_400_000;
const MAX_DATE_DAYS = 100_000_000;
/** 0001-01-01 and 9999-12-31 as days since 1970-01-01: the years PostgreSQL's ISO input takes as written. */
export const FIRST_DAY = -719_162;
export const LAST_DAY = 2_932_896;
export const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
/** Dates recently written, by day number: a column's timestamps mostly fall on a few days. */
const DATE_CACHE = new Map<number, string>();
const DATE_CACHE_SIZE = 4096;

/** Days since 1970-01-01 as YYYY-MM-DD (a year outside 0001–9999 comes out in a form the coercers refuse). */
export function dateText(days: number): string {
  if (!(days >= FIRST_DAY && days <= LAST_DAY && Number.isInteger(days))) {
    // Past what a Date can hold (±100,000,000 days), the count itself: the coercers refuse it, the reject shows it.
    if (!(Math.abs(days) <= MAX_DATE_DAYS)) return `${days} days since 1970-01-01`;
    const iso = new Date(days * DAY_MS).toISOString();
    return iso.slice(0, iso.indexOf('T'));
  }
  let text = DATE_CACHE.get(days);
  if (text === undefined) {
    text = civilDate(days);
    if (DATE_CACHE.size >= DATE_CACHE_SIZE) DATE_CACHE.clear();
    DATE_CACHE.set(days, text);
  }
  return text;
}

const civil: CivilDate = { year: 0, month: 0, day: 0 };

function civilDate(days: number): string {
  civilFromDays(days, civil);
  return `${String(civil.year).padStart(4, '0')}-${TWO_DIGITS[civil.month]}-${TWO_DIGITS[civil.day]}`;
}
