import { type CivilDate, dateProblem, daysInMonth, YEAR_RANGE } from '../../model/calendar.js';
import type { CopyTextBuffer } from '../copy-text.js';
import { asBuffer, put2, put4, twoDigits } from './bytes.js';

/** A parsed date or timestamp; one instance per coercer, refilled for every value. */
export interface DateTimeFields extends CivilDate {
  hour: number;
  minute: number;
  second: number;
  /** Microseconds; 1_000_000 when a longer fraction rounded up (see `finishFields`). */
  micro: number;
  hasOffset: boolean;
  /** -1 or 1. */
  offsetSign: number;
  offsetHours: number;
  offsetMinutes: number;
}

export function newFields(): DateTimeFields {
  return {
    year: 0,
    month: 0,
    day: 0,
    hour: 0,
    minute: 0,
    second: 0,
    micro: 0,
    hasOffset: false,
    offsetSign: 1,
    offsetHours: 0,
    offsetMinutes: 0,
  };
}

export function clearTime(f: DateTimeFields): void {
  f.hour = 0;
  f.minute = 0;
  f.second = 0;
  f.micro = 0;
  f.hasOffset = false;
}

/**
 * Reads fraction digits at `i` into `f.micro`, where a microsecond is the `places`-th decimal (6
 * for seconds, 3 for milliseconds). Returns the index after the digits, or -1 if there are none.
 */
export function readFraction(src: Uint8Array, i: number, end: number, f: DateTimeFields, places = 6): number {
  const start = i;
  let micro = 0;
  for (; i < end; i++) {
    const d = src[i]! - 0x30 /* 0 */;
    if (d < 0 || d > 9) break;
    if (i - start < places) micro = micro * 10 + d;
  }
  const count = i - start;
  if (count === 0) return -1;
  for (let k = count; k < places; k++) micro *= 10;
  f.micro = count > places ? roundedMicro(src, start, i, places) : micro;
  return i;
}

/**
 * A fraction longer than microseconds, rounded the way PostgreSQL does it (ParseFractionalSecond:
 * rint(strtod(fraction) * 1e6)), so the stored value is the one PostgreSQL would have stored.
 * May return 10^6, which `finishFields` carries into the seconds. Rare, so a string is fine here.
 */
function roundedMicro(src: Uint8Array, start: number, end: number, places: number): number {
  const scaled = Number(`.${asBuffer(src).toString('latin1', start, end)}`) * 10 ** places;
  const floor = Math.floor(scaled);
  const rest = scaled - floor;
  if (rest !== 0.5) return rest < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Reads a UTC offset at `i`: `Z`, `±HH`, `±HHMM` or `±HH:MM`. Returns the index after it, or -1.
 * Range is checked later by `finishFields` so the reason can name the offset.
 */
export function readOffset(src: Uint8Array, i: number, end: number, f: DateTimeFields): number {
  if (i >= end) return -1;
  const first = src[i];
  f.hasOffset = true;
  f.offsetSign = 1;
  f.offsetHours = 0;
  f.offsetMinutes = 0;
  if (first === 0x5a || first === 0x7a) return i + 1;
  if (first !== 0x2b /* + */ && first !== 0x2d /* - */) return -1;
  if (first === 0x2d /* - */) f.offsetSign = -1;
  if (end - i < 3) return -1;
  const hours = twoDigits(src, i + 1);
  if (hours < 0) return -1;
  f.offsetHours = hours;
  i += 3;
  if (i < end && src[i] === 0x3a /* : */) i++;
  else if (i === end || src[i]! < 0x30 /* 0 */ || src[i]! > 0x39 /* 9 */) return i;
  if (end - i < 2) return -1;
  const minutes = twoDigits(src, i);
  if (minutes < 0) return -1;
  f.offsetMinutes = minutes;
  return i + 2;
}

/**
 * Checks the calendar and clock ranges, then carries a fraction that rounded up to a whole
 * second (which may roll over into the next minute, day, month or year).
 */
export function finishFields(f: DateTimeFields): string | undefined {
  const problem = dateProblem(f.year, f.month, f.day);
  if (problem !== undefined) return problem;
  if (f.hour > 23) return `hour ${f.hour} is out of range (00 to 23)`;
  if (f.minute > 59) return `minute ${f.minute} is out of range (00 to 59)`;
  if (f.second > 59) return `second ${f.second} is out of range (00 to 59)`;
  if (f.hasOffset && (f.offsetHours > 15 || f.offsetMinutes > 59)) {
    const sign = f.offsetSign < 0 ? '-' : '+';
    return `time zone offset ${sign}${pad2(f.offsetHours)}:${pad2(f.offsetMinutes)} is out of range (-15:59 to +15:59)`;
  }
  return f.micro === 1_000_000 ? carrySecond(f) : undefined;
}

function carrySecond(f: DateTimeFields): string | undefined {
  f.micro = 0;
  if (++f.second < 60) return undefined;
  f.second = 0;
  if (++f.minute < 60) return undefined;
  f.minute = 0;
  if (++f.hour < 24) return undefined;
  f.hour = 0;
  if (++f.day <= daysInMonth(f.year, f.month)) return undefined;
  f.day = 1;
  if (++f.month <= 12) return undefined;
  f.month = 1;
  return ++f.year <= 9999 ? undefined : YEAR_RANGE;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `YYYY-MM-DD`. */
export function writeDate(out: CopyTextBuffer, f: CivilDate): void {
  out.ensure(10);
  putDate(out.buf, out.pos, f);
  out.pos += 10;
}

/** Writes `YYYY-MM-DD`, ten bytes, at `pos`: a date, or the first part of a timestamp. */
function putDate(buf: Uint8Array, pos: number, f: CivilDate): void {
  put4(buf, pos, f.year);
  buf[pos + 4] = 0x2d /* - */;
  put2(buf, pos + 5, f.month);
  buf[pos + 7] = 0x2d /* - */;
  put2(buf, pos + 8, f.day);
}

/**
 * `YYYY-MM-DD HH:MM:SS[.ffffff][±HH:MM]`: ISO order, which PostgreSQL reads the same way under
 * every DateStyle setting.
 */
export function writeTimestamp(out: CopyTextBuffer, f: DateTimeFields, withOffset: boolean): void {
  out.ensure(32);
  const buf = out.buf;
  let pos = out.pos;
  putDate(buf, pos, f);
  buf[pos + 10] = 0x20 /* ' ' */;
  put2(buf, pos + 11, f.hour);
  buf[pos + 13] = 0x3a /* : */;
  put2(buf, pos + 14, f.minute);
  buf[pos + 16] = 0x3a /* : */;
  put2(buf, pos + 17, f.second);
  pos += 19;
  if (f.micro !== 0) {
    buf[pos] = 0x2e /* . */;
    const hi = (f.micro / 10_000) | 0;
    put2(buf, pos + 1, hi);
    put4(buf, pos + 3, f.micro - hi * 10_000);
    pos += 7;
  }
  if (withOffset) {
    const zero = f.offsetHours === 0 && f.offsetMinutes === 0;
    buf[pos] = f.offsetSign < 0 && !zero ? 0x2d /* - */ : 0x2b /* + */;
    put2(buf, pos + 1, f.offsetHours);
    buf[pos + 3] = 0x3a /* : */;
    put2(buf, pos + 4, f.offsetMinutes);
    pos += 6;
  }
  out.pos = pos;
}
