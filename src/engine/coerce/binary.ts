/**
 * Binary COPY (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4) field
 * payloads. Every coercer here validates through the text coercer of the same column, so what is
 * accepted and every reason given are the text path's by construction; only the bytes differ.
 *
 * Two ways of sharing that: types whose text writer is a separate step (text, varchar, jsonb,
 * timestamps) are built with a binary writer in its place; the others run the text coercer into a
 * scratch buffer and transcode its canonical output, which is short and already validated, so the
 * text hot paths keep their fused validate-and-copy loops untouched.
 */

import { daysFromCivil } from '../../model/calendar.js';
import type { ColumnContract } from '../../model/contract.js';
import { type Coercer, CopyTextBuffer } from '../copy-text.js';
import { encodeFloat4, encodeFloat8 } from './binary-float.js';
import { put32, putInt64, putInt64Exact } from './binary-int.js';
import { makePlainIntegerEncoder } from './binary-integer-plain.js';
import { encodeNumeric } from './binary-numeric.js';
import { makePlainNumericEncoder } from './binary-numeric-plain.js';
import { makePlainTimestampEncoder } from './binary-timestamp-plain.js';
import { makeBooleanCoercer } from './boolean.js';
import { copyBytes, fourDigits, twoDigits } from './bytes.js';
import type { DateTimeFields } from './datetime-fields.js';
import { makeCoercer, timestampSource } from './index.js';
import { makeJsonbCoercer } from './jsonb.js';
import { makeRawTextCoercer, makeVarcharCoercer, NO_ESCAPES } from './text.js';
import { makeTimestampCoercer } from './timestamp.js';

/**
 * Turns the canonical COPY text `text[0, length)` that a text coercer produced into the binary
 * payload appended to `out`.
 */
type Transcoder = (text: Buffer, length: number, out: CopyTextBuffer) => void;

const UTC_NAMES: ReadonlySet<string> = new Set(['utc', 'etc/utc', 'gmt', 'etc/gmt', 'z']);

/** 2000-01-01, PostgreSQL's epoch for date and timestamp values, in days since 1970-01-01. */
const POSTGRES_EPOCH_DAYS = 10_957;

/**
 * Builds a coercer that validates exactly like `makeCoercer(column)` and appends the binary COPY
 * payload of the value (without the length prefix). Returns undefined when the column cannot be
 * loaded in binary, so the engine uses text COPY for the file: timestamptz outside UTC, because
 * offset-less values then need the zone rules that the text path leaves to PostgreSQL.
 * Throws like makeCoercer when `column.format` is unusable.
 */
export function makeBinaryCoercer(
  column: ColumnContract,
  options: { timezone: string },
): Coercer | undefined {
  const text = makeCoercer(column);
  const type = column.type;
  switch (type.kind) {
    case 'smallint':
      return withPlainInteger(
        column,
        transcoded(text, (t, n, out) => putInt16(out, parseSmallInteger(t, n))),
      );
    case 'integer':
      return withPlainInteger(
        column,
        transcoded(text, (t, n, out) => putInt32(out, parseSmallInteger(t, n))),
      );
    case 'bigint':
      return withPlainInteger(column, transcoded(text, transcodeBigint));
    case 'numeric': {
      const general = transcoded(text, (t, n, out) =>
        encodeNumeric(t, n, type.precision === undefined, type.scale, out),
      );
      if (type.precision === undefined || column.format !== undefined) return general;
      // numeric(p,s) is most of a typical file's numbers: its plain literals skip the text round trip.
      const plain = makePlainNumericEncoder(type.precision, type.scale ?? 0);
      return (src, start, end, out) =>
        plain(src, start, end, out) ? undefined : general(src, start, end, out);
    }
    case 'real':
      return transcoded(text, encodeFloat4);
    case 'double precision':
      return transcoded(text, encodeFloat8);
    case 'boolean':
      // The text coercer's own reading, writing boolsend's byte directly (no scratch round trip).
      return makeBooleanCoercer(true);
    case 'text':
      return makeRawTextCoercer();
    case 'varchar':
      return type.length === undefined ? makeRawTextCoercer() : makeVarcharCoercer(type.length, NO_ESCAPES);
    case 'date':
      return transcoded(text, transcodeDate);
    case 'timestamp':
      return withPlainTimestamp(
        column,
        makeTimestampCoercer(type.kind, timestampSource(column.format, type.kind), writeTimestampBinary),
      );
    case 'timestamptz':
      if (!UTC_NAMES.has(options.timezone.toLowerCase())) return undefined;
      return withPlainTimestamp(
        column,
        makeTimestampCoercer(type.kind, timestampSource(column.format, type.kind), writeTimestampBinary),
      );
    case 'uuid':
      return transcoded(text, transcodeUuid);
    case 'jsonb':
      return makeJsonbCoercer((src, start, end, out) => {
        out.byte(1); // jsonb's binary format version
        copyBytes(src, start, end, out);
      });
  }
}

/** Plain integers (no format) skip the text round trip; the rest take `general`. */
function withPlainInteger(column: ColumnContract, general: Coercer): Coercer {
  const kind = column.type.kind;
  if (column.format !== undefined || (kind !== 'smallint' && kind !== 'integer' && kind !== 'bigint'))
    return general;
  const plain = makePlainIntegerEncoder(kind);
  return (src, start, end, out) => (plain(src, start, end, out) ? undefined : general(src, start, end, out));
}

/** ISO timestamps (no format) in their plain shape skip the field-by-field reader; the rest take `general`. */
function withPlainTimestamp(column: ColumnContract, general: Coercer): Coercer {
  if (column.format !== undefined) return general;
  const plain = makePlainTimestampEncoder(column.type.kind === 'timestamptz');
  return (src, start, end, out) => (plain(src, start, end, out) ? undefined : general(src, start, end, out));
}

function transcoded(text: Coercer, transcode: Transcoder): Coercer {
  const scratch = new CopyTextBuffer(64);
  return (src, start, end, out) => {
    scratch.pos = 0;
    const problem = text(src, start, end, scratch);
    if (problem !== undefined) return problem;
    transcode(scratch.buf, scratch.pos, out);
    return undefined;
  };
}

// Plain byte stores: Buffer's write methods check their arguments on every call.
function putInt16(out: CopyTextBuffer, value: number): void {
  out.ensure(2);
  const buf = out.buf;
  const pos = out.pos;
  buf[pos] = (value >> 8) & 0xff;
  buf[pos + 1] = value & 0xff;
  out.pos = pos + 2;
}

function putInt32(out: CopyTextBuffer, value: number): void {
  out.ensure(4);
  put32(out.buf, out.pos, value);
  out.pos += 4;
}

/** A canonical `-?digits` integer of at most 15 digits (exact in a double). */
function parseSmallInteger(text: Buffer, length: number): number {
  const negative = text[0] === 0x2d; /* - */
  let value = 0;
  for (let k = negative ? 1 : 0; k < length; k++) value = value * 10 + text[k]! - 0x30; /* 0 */
  return negative ? -value : value;
}

function transcodeBigint(text: Buffer, length: number, out: CopyTextBuffer): void {
  out.ensure(8);
  // Up to 15 digits a double is exact; beyond, BigInt keeps every digit.
  if (length <= 15) putInt64(out.buf, out.pos, parseSmallInteger(text, length));
  else out.buf.writeBigInt64BE(BigInt(text.toString('latin1', 0, length)), out.pos);
  out.pos += 8;
}

/** `YYYY-MM-DD`, as both date coercers write it. */
function transcodeDate(text: Buffer, _length: number, out: CopyTextBuffer): void {
  const days = daysFromCivil(fourDigits(text, 0), twoDigits(text, 5), twoDigits(text, 8));
  putInt32(out, days - POSTGRES_EPOCH_DAYS);
}

/** The lowercase hyphenated form the text coercer writes. */
function transcodeUuid(text: Buffer, length: number, out: CopyTextBuffer): void {
  out.ensure(16);
  const buf = out.buf;
  let pos = out.pos;
  for (let k = 0; k < length; k++) {
    const hi = text[k]!;
    if (hi === 0x2d /* - */) continue;
    buf[pos++] = (hexValue(hi) << 4) | hexValue(text[++k]!);
  }
  out.pos = pos;
}

function hexValue(lowerHex: number): number {
  return lowerHex <= 0x39 /* 9 */ ? lowerHex - 0x30 /* 0 */ : lowerHex - 0x57 /* 'a' - 10 */;
}

/**
 * int64 microseconds since 2000-01-01 00:00:00: of the wall-clock time, or of UTC once an offset
 * is subtracted (only timestamptz values that carry one get `withOffset`).
 */
export function writeTimestampBinary(out: CopyTextBuffer, f: DateTimeFields, withOffset: boolean): void {
  const days = daysFromCivil(f.year, f.month, f.day) - POSTGRES_EPOCH_DAYS;
  let seconds = days * 86_400 + f.hour * 3600 + f.minute * 60 + f.second;
  if (withOffset) seconds -= f.offsetSign * (f.offsetHours * 3600 + f.offsetMinutes * 60);
  out.ensure(8);
  putInt64Exact(out.buf, out.pos, seconds, 1_000_000, f.micro);
  out.pos += 8;
}
