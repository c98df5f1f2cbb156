import { daysFromCivil, daysInMonth } from '../../model/calendar.js';
import type { CopyTextBuffer } from '../copy-text.js';
import { putInt64Exact } from './binary-int.js';
import { twoDigits } from './bytes.js';

/** 2000-01-01, PostgreSQL's epoch for timestamps, in days since 1970-01-01. */
const POSTGRES_EPOCH_DAYS = 10_957;

/**
 * Days from 1970-01-01 to 1 January of each year 0001-9999 (index = year), each computed when first asked
 * for (NaN until then): filling all 9,999 at once cost a small file's command a few milliseconds of code
 * not yet compiled, for the one or two years its rows hold.
 */
const yearStarts = new Float64Array(10_000).fill(Number.NaN);

function yearStart(year: number): number {
  let days = yearStarts[year]!;
  if (Number.isNaN(days)) {
    days = daysFromCivil(year, 1, 1);
    yearStarts[year] = days;
  }
  return days;
}

/** Days before the first of each month (index 1-12) in a common year. */
const MONTH_STARTS = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/**
 * The timestamp most files hold, `YYYY-MM-DDTHH:MM:SS` (T, t or a space between), with up to six
 * fraction digits and, for timestamptz, an optional `Z`, straight to its binary COPY bytes (int64
 * microseconds since 2000-01-01) in one pass. Everything else (spaces around it, other offsets, no
 * seconds, longer fractions, out-of-range fields, errors) returns false untouched, for the general
 * path (the ISO reader, its range checks and writeTimestampBinary), whose result this equals
 * (test/unit/engine/coerce/binary-timestamp-plain.test.ts compares the two).
 */
export function makePlainTimestampEncoder(
  withZone: boolean,
): (src: Uint8Array, start: number, end: number, out: CopyTextBuffer) => boolean {
  return (src, start, end, out) => {
    const length = end - start;
    if (length < 19 || src[start + 4] !== 0x2d /* - */ || src[start + 7] !== 0x2d) return false;
    const separator = src[start + 10];
    if (separator !== 0x54 /* T */ && separator !== 0x20 /* ' ' */ && separator !== 0x74 /* t */)
      return false;
    if (src[start + 13] !== 0x3a /* : */ || src[start + 16] !== 0x3a) return false;
    const yearHigh = twoDigits(src, start);
    const yearLow = twoDigits(src, start + 2);
    const month = twoDigits(src, start + 5);
    const day = twoDigits(src, start + 8);
    const hour = twoDigits(src, start + 11);
    const minute = twoDigits(src, start + 14);
    const second = twoDigits(src, start + 17);
    if ((yearHigh | yearLow | month | day | hour | minute | second) < 0) return false;
    const year = yearHigh * 100 + yearLow;
    if (year === 0 || month === 0 || month > 12 || day === 0 || hour > 23 || minute > 59 || second > 59)
      return false;
    if (day > 28 && day > daysInMonth(year, month)) return false;
    let i = start + 19;
    let micro = 0;
    if (i < end && src[i] === 0x2e /* . */) {
      i++;
      const digitsStart = i;
      while (i < end) {
        const d = src[i]! - 0x30; /* 0 */
        if (d < 0 || d > 9) break;
        micro = micro * 10 + d;
        i++;
      }
      const digits = i - digitsStart;
      if (digits === 0 || digits > 6) return false;
      for (let k = digits; k < 6; k++) micro *= 10;
    }
    if (withZone && i === end - 1 && src[i] === 0x5a /* Z */) i++;
    if (i !== end) return false;
    const days =
      yearStart(year) +
      MONTH_STARTS[month]! +
      (month > 2 && isLeapYear(year) ? 1 : 0) +
      day -
      1 -
      POSTGRES_EPOCH_DAYS;
    out.ensure(8);
    putInt64Exact(out.buf, out.pos, days * 86_400 + hour * 3600 + minute * 60 + second, 1_000_000, micro);
    out.pos += 8;
    return true;
  };
}
