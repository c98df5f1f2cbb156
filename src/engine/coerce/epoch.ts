import { civilFromDays, YEAR_RANGE } from '../../model/calendar.js';
import { isSign } from './bytes.js';
import { type DateTimeFields, readFraction } from './datetime-fields.js';
import { isDigit } from './decimal.js';

export type EpochFormat = 'epoch' | 'epoch_ms';

export const EPOCH_FORMATS: ReadonlySet<string> = new Set<EpochFormat>(['epoch', 'epoch_ms']);

/** Enough digits for any instant in years 0001–9999 in milliseconds, and exact in a double. */
const MAX_DIGITS = 15;

/**
 * Reads Unix time (`epoch`: seconds, `epoch_ms`: milliseconds, both with an optional sign and
 * fraction) into UTC fields, marked as offset +00:00. Returns a reason, or undefined.
 */
export function readEpoch(
  format: EpochFormat,
  src: Uint8Array,
  i: number,
  end: number,
  f: DateTimeFields,
): string | undefined {
  const shape =
    format === 'epoch' ? 'not a Unix timestamp in seconds' : 'not a Unix timestamp in milliseconds';
  let negative = false;
  if (i < end && isSign(src[i])) {
    negative = src[i] === 0x2d /* - */;
    i++;
  }
  while (i + 1 < end && src[i] === 0x30 /* 0 */ && isDigit(src[i + 1]!)) i++;
  const digitsStart = i;
  let whole = 0;
  for (; i < end; i++) {
    const d = src[i]! - 0x30 /* 0 */;
    if (d < 0 || d > 9) break;
    whole = whole * 10 + d;
  }
  if (i === digitsStart) return shape;
  if (i - digitsStart > MAX_DIGITS) return YEAR_RANGE;
  f.micro = 0;
  if (i < end) {
    if (src[i] !== 0x2e /* . */) return shape;
    // Microseconds are the 6th decimal of a second but the 3rd of a millisecond.
    const after = readFraction(src, i + 1, end, f, format === 'epoch' ? 6 : 3);
    if (after !== end) return shape;
  }
  let seconds = whole;
  let micro = f.micro;
  if (format === 'epoch_ms') {
    seconds = Math.floor(whole / 1000);
    micro += (whole - seconds * 1000) * 1000;
  }
  if (micro >= 1_000_000) {
    seconds++;
    micro -= 1_000_000;
  }
  if (negative && micro > 0) {
    seconds = -seconds - 1;
    micro = 1_000_000 - micro;
  } else if (negative) {
    seconds = -seconds;
  }
  const days = Math.floor(seconds / 86_400);
  let rest = seconds - days * 86_400;
  civilFromDays(days, f);
  if (f.year < 1 || f.year > 9999) return YEAR_RANGE;
  f.hour = Math.floor(rest / 3600);
  rest -= f.hour * 3600;
  f.minute = Math.floor(rest / 60);
  f.second = rest - f.minute * 60;
  f.micro = micro;
  f.hasOffset = true;
  f.offsetSign = 1;
  f.offsetHours = 0;
  f.offsetMinutes = 0;
  return undefined;
}
