/**
 * What the XLSX converter and the engine's typed writing of sheet cells need to take cells as bytes
 * (the shared strings' UTF-8 is in shared-strings.ts): an Excel serial as its moment or written as its
 * ISO 8601 text straight into a buffer, byte for byte what `serialText` gives, and a plain decimal read
 * from its bytes.
 */
import { type CivilDate, civilFromDays } from '../../model/calendar.js';
import { LAST_DAY } from '../civil-date.js';
import type { DateSystem } from './dates.js';

const DAY_MS = 86_400_000;
const EPOCH_1900_DAYS = Date.UTC(1899, 11, 30) / DAY_MS;
const EPOCH_1904_DAYS = Date.UTC(1904, 0, 1) / DAY_MS;

/**
 * An Excel serial with a date (1900-03-01 or later in the 1900 system, any in the 1904 one) up to
 * 9999-12-31, as its day (since 1970-01-01) and milliseconds into it, rounded as `serialText` rounds
 * them, in `into`; returns false for every other serial (a time of day alone, 1900-02-29, out of range,
 * not a number), which `serialText` handles and explains.
 */
export function serialMoment(serial: number, system: DateSystem, into: SerialMoment): boolean {
  if (!(serial >= 0 && serial < Number.POSITIVE_INFINITY)) return false;
  const whole = Math.floor(serial);
  const ms = Math.round((serial - whole) * DAY_MS);
  return moment(whole, ms, system, into);
}

/** Whole days and milliseconds (up to a whole day) since the system's epoch, checked and stored in `into`. */
function moment(whole: number, ms: number, system: DateSystem, into: SerialMoment): boolean {
  if (ms === DAY_MS) {
    whole += 1;
    ms = 0;
  }
  if (system === 1900 && whole <= 60) return false;
  const days = (system === 1904 ? EPOCH_1904_DAYS : EPOCH_1900_DAYS) + whole;
  if (days > LAST_DAY) return false;
  into.days = days;
  into.ms = ms;
  return true;
}

/**
 * `serialMoment(Number(text), system, into)` for a serial written as plain digits with a fraction
 * (`45386.000034756944`, more digits than `decimalValue` reads exactly), computed from the digits
 * without making the text: the whole days are the integer digits and the milliseconds the fraction
 * times a day, rounded half up as `Math.round` does. The double the text path reads differs from the
 * digits by at most half a unit in its last place, so where the exact milliseconds lie within a few
 * such units of a rounding edge (a half millisecond, or the next day) the answer is left to the text
 * path: returns undefined then, and for any other shape (a sign, an exponent, over 13 fraction digits).
 */
export function serialMomentOfDigits(
  src: Uint8Array,
  start: number,
  end: number,
  system: DateSystem,
  into: SerialMoment,
): boolean | undefined {
  let whole = 0;
  let i = start;
  for (; i < end && i - start < 9; i++) {
    const digit = (src[i] as number) - 0x30;
    if (digit < 0 || digit > 9) break;
    whole = whole * 10 + digit;
  }
  if (i === start || i >= end || src[i] !== 0x2e) return undefined;
  const fractionStart = ++i;
  let fraction = 0;
  for (; i < end; i++) {
    const digit = (src[i] as number) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    fraction = fraction * 10 + digit;
  }
  const digits = end - fractionStart;
  if (digits === 0 || digits > 13) return undefined;
  // The fraction's milliseconds are fraction * 86,400,000 / 10^digits = fraction * 864 / 10^(digits - 5),
  // whose numerator is below 2^53 for 13 digits: exact as a quotient and a remainder.
  const product = fraction * 864;
  // Half a unit in the last place of the serial as a double, in milliseconds, eight times over.
  const margin = Math.max(whole, 1) * 2 ** -52 * DAY_MS * 4;
  let ms: number;
  let exact: number;
  if (digits <= 5) {
    ms = product * (POWERS_OF_TEN[5 - digits] as number);
    exact = ms;
  } else {
    const divisor = POWERS_OF_TEN[digits - 5] as number;
    let quotient = Math.floor(product / divisor);
    let remainder = product - quotient * divisor;
    if (remainder < 0) {
      quotient--;
      remainder += divisor;
    } else if (remainder >= divisor) {
      quotient++;
      remainder -= divisor;
    }
    const part = remainder / divisor;
    if (Math.abs(part - 0.5) <= margin) return undefined;
    ms = part > 0.5 ? quotient + 1 : quotient;
    exact = quotient + part;
  }
  // A fraction so near a whole day that the double may round up to the next one.
  if (DAY_MS - exact <= margin) return undefined;
  return moment(whole, ms, system, into);
}

/** A moment read from a serial: `days` since 1970-01-01, `ms` into that day. */
export interface SerialMoment {
  days: number;
  ms: number;
}

const scratchMoment: SerialMoment = { days: 0, ms: 0 };

/**
 * The serial's moment (see `serialMoment`) as `YYYY-MM-DD[THH:MM:SS[.mmm]]` written into `out` (32
 * bytes or more), byte for byte what `serialText` gives; returns its length, or -1 for every serial
 * `serialMoment` refuses.
 */
export function writeSerial(serial: number, system: DateSystem, out: Buffer): number {
  if (!serialMoment(serial, system, scratchMoment)) return -1;
  const ms = scratchMoment.ms;
  civilFromDays(scratchMoment.days, civil);
  const year = civil.year;
  out[0] = 0x30 + Math.floor(year / 1000);
  out[1] = 0x30 + (Math.floor(year / 100) % 10);
  out[2] = 0x30 + (Math.floor(year / 10) % 10);
  out[3] = 0x30 + (year % 10);
  out[4] = 0x2d;
  twoDigits(out, 5, civil.month);
  out[7] = 0x2d;
  twoDigits(out, 8, civil.day);
  if (ms === 0) return 10;
  const seconds = Math.floor(ms / 1000);
  const millis = ms - seconds * 1000;
  out[10] = 0x54; // T
  twoDigits(out, 11, Math.floor(seconds / 3600));
  out[13] = 0x3a;
  twoDigits(out, 14, Math.floor(seconds / 60) % 60);
  out[16] = 0x3a;
  twoDigits(out, 17, seconds % 60);
  if (millis === 0) return 19;
  out[19] = 0x2e;
  out[20] = 0x30 + Math.floor(millis / 100);
  twoDigits(out, 21, millis % 100);
  return 23;
}

const civil: CivilDate = { year: 0, month: 0, day: 0 };

function twoDigits(out: Buffer, at: number, n: number): void {
  out[at] = 0x30 + Math.floor(n / 10);
  out[at + 1] = 0x30 + (n % 10);
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * A plain decimal (`45324.00001158565`: digits, at most one point) read from its bytes, when that is
 * exact: its digits as an integer below 2^53 divided by a power of ten up to 10^22, both exact doubles,
 * so the one division rounds correctly and the result is what `Number()` gives the text. NaN otherwise
 * (a sign, an exponent, too many digits): the caller reads the text.
 */
export function decimalValue(src: Uint8Array, start: number, end: number): number {
  let mantissa = 0;
  let scale = -1;
  if (end - start > 18 || end === start) return Number.NaN;
  for (let i = start; i < end; i++) {
    const byte = src[i] as number;
    if (byte === 0x2e && scale < 0) scale = end - i - 1;
    else if (byte >= 0x30 && byte <= 0x39) mantissa = mantissa * 10 + (byte - 0x30);
    else return Number.NaN;
  }
  if (scale === 0 || mantissa > Number.MAX_SAFE_INTEGER) return Number.NaN;
  return scale < 0 ? mantissa : mantissa / (POWERS_OF_TEN[scale] as number);
}

/**
 * Whether a number's bytes are already the text `numberText` gives (its first test, on bytes): at most
 * 17 bytes and 15 digits, `-?(?:[1-9]\d*|0(?!\.0{6}))(?:\.\d*[1-9])?`, not `-0`.
 */
export function isPlainNumber(src: Uint8Array, start: number, end: number): boolean {
  if (end - start > 17) return false;
  let i = start;
  if (src[i] === 0x2d) i++;
  if (i >= end) return false;
  const lead = src[i] as number;
  let digits = 0;
  if (lead === 0x30) {
    i++;
    digits++;
    if (i === end) return src[start] !== 0x2d; // `0`, not `-0`
  } else if (lead > 0x30 && lead <= 0x39) {
    while (i < end && (src[i] as number) >= 0x30 && (src[i] as number) <= 0x39) {
      i++;
      digits++;
    }
    if (i === end) return digits <= 15;
  } else return false;
  if (src[i] !== 0x2e) return false;
  i++;
  const fraction = i;
  while (i < end && (src[i] as number) >= 0x30 && (src[i] as number) <= 0x39) i++;
  if (i !== end || i === fraction || src[end - 1] === 0x30) return false;
  digits += end - fraction;
  if (lead === 0x30) {
    // `0.000000…` (six zeros after the point) is refused by the pattern's lookahead.
    let zeros = 0;
    while (zeros < 6 && src[fraction + zeros] === 0x30) zeros++;
    if (zeros === 6) return false;
  }
  return digits <= 15;
}
