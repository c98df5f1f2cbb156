import { dateProblem } from '../../model/calendar.js';
import type { Coercer } from '../copy-text.js';
import { copyBytes, failure, fourDigits, skipSpaces, trimEnd, twoDigits } from './bytes.js';
import { newFields, writeDate } from './datetime-fields.js';
import { type DateTimePattern, matchDateTimePattern } from './datetime-pattern.js';

const NOT_ISO_DATE = 'not a valid date (expected YYYY-MM-DD)';

/** `YYYY-MM-DD` exactly, on a real calendar day in years 0001–9999; emitted unchanged. */
export function makeIsoDateCoercer(): Coercer {
  return (src, start, end, out) => {
    const i = skipSpaces(src, start, end);
    const e = trimEnd(src, i, end);
    if (e - i !== 10 || src[i + 4] !== 0x2d /* - */ || src[i + 7] !== 0x2d /* - */) {
      return failure(src, start, end, NOT_ISO_DATE);
    }
    const year = fourDigits(src, i);
    const month = twoDigits(src, i + 5);
    const day = twoDigits(src, i + 8);
    if (year < 0 || month < 0 || day < 0) return failure(src, start, end, NOT_ISO_DATE);
    const problem = dateProblem(year, month, day);
    if (problem !== undefined) return problem;
    copyBytes(src, i, e, out);
    return undefined;
  };
}

/** A date in a configured layout such as `DD/MM/YYYY`, emitted as `YYYY-MM-DD`. */
export function makePatternDateCoercer(pattern: DateTimePattern): Coercer {
  const shape = `not a valid date (expected ${pattern.source})`;
  const f = newFields();
  return (src, start, end, out) => {
    const i = skipSpaces(src, start, end);
    const e = trimEnd(src, i, end);
    if (!matchDateTimePattern(pattern, src, i, e, f)) return failure(src, start, end, shape);
    const problem = dateProblem(f.year, f.month, f.day);
    if (problem !== undefined) return problem;
    writeDate(out, f);
    return undefined;
  };
}
