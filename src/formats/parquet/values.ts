/**
 * Parquet values → the text the contract's coercers read. One converter per (Parquet column,
 * contract column), chosen once per file. Numbers keep every digit (decimals from their unscaled
 * integers, floats in their shortest round-tripping form), temporal values are ISO 8601, nested
 * values JSON. Whether a value fits the column is the coercer's call, as for CSV.
 */
import { isUtf8 } from 'node:buffer';
import type { ColumnContract } from '../../engine/contract.js';
import { FormatError } from '../../errors.js';
import { type CellConverter, CellProblem, jsonText } from '../table.js';
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
      return (value) => (value ? 'true' : 'false');
    case 'integer':
      return (value) => String(value);
    case 'float':
      return type.single
        ? (value) => floatText(Math.fround(Number(value)), true, toJson)
        : (value) => floatText(Number(value), false, toJson);
    case 'decimal':
      return (value) => decimalText(value, type.scale);
    case 'string':
      return toJson
        ? (value) => JSON.stringify(textOf(value))
        : (value) => (typeof value === 'string' ? value : bytesOf(value));
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
      return quotedIf(toJson, (value) => `${epochText(BigInt(value as bigint | number), type.unit)}${zone}`);
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

function quotedIf(json: boolean, text: (value: unknown) => string): CellConverter {
  return json ? (value) => JSON.stringify(text(value)) : text;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
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

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 as YYYY-MM-DD (a year outside 0001–9999 comes out in a form the coercers refuse). */
export function dateText(days: number): string {
  const iso = new Date(days * DAY_MS).toISOString();
  return iso.slice(0, iso.indexOf('T'));
}

/** An epoch count in `unit` as `YYYY-MM-DDTHH:MM:SS[.fraction]`, every digit kept. */
export function epochText(value: bigint, unit: TimeUnit): string {
  const perSecond = UNITS_PER_SECOND[unit];
  let seconds = value / perSecond;
  let fraction = value % perSecond;
  if (fraction < 0n) {
    fraction += perSecond;
    seconds -= 1n;
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
  timestampFromMilliseconds: (millis: bigint) => `${epochText(BigInt(millis), 'MILLIS')}Z`,
  timestampFromMicroseconds: (micros: bigint) => `${epochText(BigInt(micros), 'MICROS')}Z`,
  timestampFromNanoseconds: (nanos: bigint) => `${epochText(BigInt(nanos), 'NANOS')}Z`,
  dateFromDays: (days: number) => dateText(days),
};
