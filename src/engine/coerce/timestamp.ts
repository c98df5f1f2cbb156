import type { Coercer, CopyTextBuffer } from '../copy-text.js';
import { failure, fourDigits, skipSpaces, trimEnd, twoDigits } from './bytes.js';
import {
  clearTime,
  type DateTimeFields,
  finishFields,
  newFields,
  readFraction,
  readOffset,
  writeTimestamp,
} from './datetime-fields.js';
import { type DateTimePattern, matchDateTimePattern } from './datetime-pattern.js';
import { type EpochFormat, readEpoch } from './epoch.js';

export type TimestampKind = 'timestamp' | 'timestamptz';

const NOT_ISO_TIMESTAMP = 'not a valid timestamp (expected ISO 8601 such as 2024-01-31 13:45:00)';
const OFFSET_ON_LOCAL = 'has a time zone offset but the column is timestamp without time zone';

/** How a column's values are read: ISO 8601 by default, or a configured format. */
export type TimestampSource =
  | { readonly kind: 'iso' }
  | { readonly kind: 'pattern'; readonly pattern: DateTimePattern }
  | { readonly kind: 'epoch'; readonly format: EpochFormat };

/**
 * Emits `YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]`.
 *
 * timestamptz values that carry no offset are emitted WITHOUT one: the engine sets the session
 * TimeZone to the pipeline's zone, so PostgreSQL reads them as local time there, including its
 * rules for local times that a DST change skips or repeats. Values with an offset keep it, and
 * epoch values are UTC (`+00:00`).
 *
 * timestamp (without time zone) refuses values with an offset instead of silently dropping it;
 * epoch values are the only exception and are emitted as UTC wall time.
 */
export function makeTimestampCoercer(
  kind: TimestampKind,
  source: TimestampSource,
  write: TimestampWriter = writeTimestamp,
): Coercer {
  const withZone = kind === 'timestamptz';
  const f = newFields();
  const read = fieldReader(source, f);
  const epoch = source.kind === 'epoch';
  return (src, start, end, out) => {
    const i = skipSpaces(src, start, end);
    const e = trimEnd(src, i, end);
    const problem = read(src, i, e);
    if (problem !== undefined) return failure(src, start, end, problem);
    if (f.hasOffset && !withZone && !epoch) return OFFSET_ON_LOCAL;
    write(out, f, withZone && f.hasOffset);
    return undefined;
  };
}

/**
 * Appends validated fields in the COPY format being written. `withOffset` is true only for
 * timestamptz values that carry an offset (epoch values count as +00:00); otherwise the fields are
 * the wall-clock time.
 */
export type TimestampWriter = (out: CopyTextBuffer, f: DateTimeFields, withOffset: boolean) => void;

type FieldReader = (src: Uint8Array, i: number, end: number) => string | undefined;

function fieldReader(source: TimestampSource, f: DateTimeFields): FieldReader {
  switch (source.kind) {
    case 'iso':
      return (src, i, end) => (readIsoTimestamp(src, i, end, f) ? finishFields(f) : NOT_ISO_TIMESTAMP);
    case 'epoch':
      return (src, i, end) => readEpoch(source.format, src, i, end, f);
    case 'pattern': {
      const shape = `not a valid timestamp (expected ${source.pattern.source})`;
      return (src, i, end) => {
        clearTime(f);
        return matchDateTimePattern(source.pattern, src, i, end, f) ? finishFields(f) : shape;
      };
    }
  }
}

/**
 * `YYYY-MM-DD`, optionally followed by `T` (or a space) and `HH:MM[:SS[.fraction]]` and an offset
 * (`Z`, `±HH`, `±HHMM`, `±HH:MM`). A date alone means midnight. Only the shape is checked here.
 */
function readIsoTimestamp(src: Uint8Array, i: number, end: number, f: DateTimeFields): boolean {
  if (end - i < 10 || src[i + 4] !== 0x2d /* - */ || src[i + 7] !== 0x2d /* - */) return false;
  f.year = fourDigits(src, i);
  f.month = twoDigits(src, i + 5);
  f.day = twoDigits(src, i + 8);
  if (f.year < 0 || f.month < 0 || f.day < 0) return false;
  clearTime(f);
  i += 10;
  if (i === end) return true;
  const separator = src[i]! | 0x20;
  if ((separator !== 0x74 && src[i] !== 0x20) /* ' ' */ || end - i < 6 || src[i + 3] !== 0x3a /* : */)
    return false;
  f.hour = twoDigits(src, i + 1);
  f.minute = twoDigits(src, i + 4);
  if (f.hour < 0 || f.minute < 0) return false;
  i += 6;
  if (i < end && src[i] === 0x3a /* : */) {
    if (end - i < 3) return false;
    f.second = twoDigits(src, i + 1);
    if (f.second < 0) return false;
    i += 3;
    if (i < end && src[i] === 0x2e /* . */) {
      i = readFraction(src, i + 1, end, f);
      if (i < 0) return false;
    }
  }
  if (i === end) return true;
  return readOffset(src, i, end, f) === end;
}
