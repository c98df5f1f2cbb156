/**
 * Parquet values → the text the contract's coercers read. One converter per (Parquet column,
 * contract column), chosen once per file. Numbers keep every digit (decimals from their unscaled
 * integers, floats in their shortest round-tripping form), temporal values are ISO 8601, nested
 * values JSON. Whether a value fits the column is the coercer's call, as for CSV.
 */
import { isUtf8 } from 'node:buffer';
import { FormatError } from '../../errors.js';
import type { ColumnContract } from '../../model/contract.js';
import { dateText, FIRST_DAY, LAST_DAY, TWO_DIGITS } from '../civil-date.js';
import {
  asciiOnly,
  ByteSpan,
  type CellConverter,
  CellProblem,
  type CellText,
  type CellType,
  jsonText,
  NUL_IN_TEXT,
} from '../table.js';
import type { ParquetField, TimeUnit } from './fields.js';

const UNITS_PER_SECOND: Record<TimeUnit, bigint> = {
  MILLIS: 1000n,
  MICROS: 1_000_000n,
  NANOS: 1_000_000_000n,
};
const FRACTION_DIGITS: Record<TimeUnit, number> = { MILLIS: 3, MICROS: 6, NANOS: 9 };

export function parquetConverter(field: ParquetField, column: ColumnContract, source: string): CellConverter {
  const type = field.type;
  const target = column.type.kind;
  const toJson = target === 'jsonb';
  switch (type.kind) {
    case 'unsupported':
      throw new FormatError(
        'unsupported_parquet_type',
        `Parquet column "${field.name}" has type ${field.spelled}, which Inlet cannot read; leave it out of the contract (onDrift: ignoreExtra) or convert it when writing the file.`,
        { location: { source, column: column.name } },
      );
    case 'boolean':
      return asciiOnly((value) => (value ? 'true' : 'false'));
    case 'integer':
      return asciiOnly((value) => String(value));
    case 'float':
      return asciiOnly(
        type.single
          ? (value) => floatText(Math.fround(Number(value)), true, toJson)
          : (value) => floatText(Number(value), false, toJson),
      );
    case 'decimal':
      return asciiOnly((value) => decimalText(value, type.scale));
    case 'string':
      return toJson
        ? (value) => JSON.stringify(textOf(value))
        : (value) => (value instanceof ByteSpan ? checkedSpan(value) : bytesOf(value));
    case 'binary':
      return toJson
        ? (value) => jsonText(value)
        : (value) => {
            const bytes = bytesOf(value);
            return typeof bytes === 'string' || isUtf8(bytes)
              ? bytes
              : new CellProblem(
                  'is binary data that is not UTF-8 text',
                  Buffer.from(bytes).toString('hex').slice(0, 64),
                );
          };
    case 'json':
      return (value) => bytesOf(value);
    case 'uuid':
      return toJson ? (value) => JSON.stringify(String(value)) : (value) => String(value);
    case 'date':
      return quotedIf(toJson, (value) => dateText(Number(value)));
    case 'timestamp': {
      // An instant (isAdjustedToUTC) into timestamp without time zone is its UTC wall time, as epoch input is.
      const zone = type.utc && target !== 'timestamp' ? 'Z' : '';
      return quotedIf(toJson, (value) => `${epochText(value as bigint | number, type.unit)}${zone}`);
    }
    case 'int96':
      return quotedIf(
        toJson,
        target === 'timestamp' ? (value) => String(value).replace(/Z$/, '') : (value) => String(value),
      );
    case 'time':
      return quotedIf(toJson, (value) => timeText(BigInt(value as bigint | number), type.unit));
    case 'nested':
      return (value) => jsonText(value);
  }
}

/**
 * What hyparquet hands over for the field, where the engine may write it to binary COPY without text:
 * the physical values the converters above read (decimals unscaled, dates and timestamps as counts).
 * Float32 is left out: its text is its shortest float32 digits, which the coercers round afresh.
 */
export function parquetCellType(field: ParquetField): CellType | undefined {
  const type = field.type;
  switch (type.kind) {
    case 'boolean':
    case 'integer':
    case 'date':
      return { kind: type.kind };
    case 'float':
      return type.single ? undefined : { kind: 'double' };
    case 'decimal':
      return { kind: 'decimal', scale: type.scale };
    case 'timestamp':
      return { kind: 'timestamp', unit: type.unit };
    case 'string':
      return { kind: 'utf8' };
    default:
      return undefined;
  }
}

/** Temporal values are ASCII, quoted for a jsonb column. */
function quotedIf(json: boolean, text: (value: unknown) => string): CellConverter {
  return asciiOnly(json ? (value) => JSON.stringify(text(value)) : text);
}

/**
 * arrow-rs's text in place, checked as hyparquet's string of it is: a NUL refused with the reason a
 * string's gets, bytes that are not UTF-8 (arrow-rs refuses them, so never seen) decoded as hyparquet
 * decodes them, with replacement characters. Anything else goes on as valid bytes, without a copy.
 */
function checkedSpan(span: ByteSpan): CellText {
  // The value's own bytes: a search from `start` in the whole buffer would run on past `end`.
  const bytes = Buffer.from(span.src.buffer, span.src.byteOffset + span.start, span.end - span.start);
  if (bytes.indexOf(0) !== -1 || !isUtf8(bytes)) {
    const text = bytes.toString('utf8');
    return text.includes('\u0000') ? new CellProblem(NUL_IN_TEXT, text) : text;
  }
  span.valid = true;
  return span;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof ByteSpan)
    return Buffer.from(value.src.buffer, value.src.byteOffset, value.src.byteLength).toString(
      'utf8',
      value.start,
      value.end,
    );
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  return String(value);
}

function bytesOf(value: unknown): string | Uint8Array {
  if (typeof value === 'string' || value instanceof Uint8Array) return value;
  return String(value);
}

/** The shortest decimal that reads back as the same float32 (or float64) value. */
export function floatText(value: number, single: boolean, json: boolean): string {
  if (!Number.isFinite(value)) return json ? JSON.stringify(String(value)) : String(value);
  if (!single) return String(value);
  for (let digits = 1; digits < 10; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(value);
}

/** An unscaled decimal (INT32, INT64, or big-endian two's complement bytes) written with its scale. */
export function decimalText(value: unknown, scale: number): string {
  let unscaled: bigint;
  if (typeof value === 'bigint') unscaled = value;
  else if (typeof value === 'number') unscaled = BigInt(value);
  else if (value instanceof Uint8Array) unscaled = signedBigEndian(value);
  else return String(value);
  if (scale === 0) return unscaled.toString();
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function signedBigEndian(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  const bits = BigInt(bytes.length * 8);
  return (bytes[0] as number) & 0x80 ? value - (1n << bits) : value;
}

const SECONDS_PER_DAY = 86_400;
const PER_SECOND: Record<TimeUnit, number> = { MILLIS: 1e3, MICROS: 1e6, NANOS: 1e9 };
/** An epoch count in `unit` as `YYYY-MM-DDTHH:MM:SS[.fraction]`, every digit kept. */
export function epochText(value: bigint | number, unit: TimeUnit): string {
  // Counts within 2^53 (every instant of years 1678–2261 in nanoseconds, all of 0001–9999 in micro- and
  // milliseconds) are exact as numbers, which are far cheaper than bigints.
  const count = typeof value === 'bigint' ? Number(value) : value;
  if (!Number.isSafeInteger(count)) return exactEpochText(BigInt(value), unit);
  const perSecond = PER_SECOND[unit];
  let seconds = Math.floor(count / perSecond);
  let fraction = count - seconds * perSecond;
  // The division rounds to nearest, so just below a whole second it can round up to it (never below one:
  // whole seconds are exact numbers here): then the floor is one too many.
  if (fraction < 0) {
    seconds -= 1;
    fraction += perSecond;
  }
  const days = Math.floor(seconds / SECONDS_PER_DAY);
  if (days < FIRST_DAY || days > LAST_DAY) return exactEpochText(BigInt(value), unit);
  const second = seconds - days * SECONDS_PER_DAY;
  const hour = Math.floor(second / 3600);
  const minute = Math.floor((second % 3600) / 60);
  const whole = `${dateText(days)}T${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second % 60]}`;
  return fraction === 0 ? whole : `${whole}.${String(fraction).padStart(FRACTION_DIGITS[unit], '0')}`;
}

const MAX_DATE_SECONDS = 8_640_000_000_000n;

/**
 * epochText by bigint arithmetic and Date, for counts past 2^53 or years outside 0001–9999. Past
 * what Date can show (±273,790 years) the count itself is written, which the coercers refuse and the
 * reject shows as the file has it.
 */
export function exactEpochText(value: bigint, unit: TimeUnit): string {
  const perSecond = UNITS_PER_SECOND[unit];
  let seconds = value / perSecond;
  let fraction = value % perSecond;
  if (fraction < 0n) {
    fraction += perSecond;
    seconds -= 1n;
  }
  if (seconds > MAX_DATE_SECONDS || seconds < -MAX_DATE_SECONDS) {
    return `${value} ${unit.toLowerCase()} since 1970-01-01`;
  }
  const iso = new Date(Number(seconds) * 1000).toISOString();
  const whole = iso.slice(0, iso.indexOf('.'));
  return fraction === 0n ? whole : `${whole}.${fraction.toString().padStart(FRACTION_DIGITS[unit], '0')}`;
}

/** Time of day since midnight in `unit` as `HH:MM:SS[.fraction]`. */
export function timeText(value: bigint, unit: TimeUnit): string {
  const perSecond = UNITS_PER_SECOND[unit];
  const seconds = Number(value / perSecond);
  const fraction = value % perSecond;
  const hh = String(Math.floor(seconds / 3600)).padStart(2, '0');
  const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, '0');
  const ss = String(seconds % 60).padStart(2, '0');
  return `${hh}:${mm}:${ss}${fraction === 0n ? '' : `.${fraction.toString().padStart(FRACTION_DIGITS[unit], '0')}`}`;
}

/** hyparquet's parsers for values nested in LIST/MAP/STRUCT (and INT96): ISO strings, so JSON keeps them exactly. */
export const NESTED_PARSERS = {
  timestampFromMilliseconds: (millis: bigint) => `${epochText(millis, 'MILLIS')}Z`,
  timestampFromMicroseconds: (micros: bigint) => `${epochText(micros, 'MICROS')}Z`,
  timestampFromNanoseconds: (nanos: bigint) => `${epochText(nanos, 'NANOS')}Z`,
  dateFromDays: (days: number) => dateText(days),
};
