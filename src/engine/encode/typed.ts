/**
 * Binary COPY fields written straight from a binary format's decoded values (Parquet's integers,
 * doubles, decimals, booleans, dates, timestamps, text), without the value → text → coercer →
 * binary round trip. Each writer takes only values whose result is certain: in range, finite, valid
 * UTF-8 without NUL, a decimal of the column's own scale. Anything else it declines (returns false,
 * writing nothing), and the value goes the generic way, so every accepted value is stored as the text
 * path would store it and every reject keeps the text path's reason by construction.
 */
import { isUtf8 } from 'node:buffer';
import { ByteSpan, type CellType } from '../../formats/table.js';
import type { ColumnContract } from '../../model/contract.js';
import { put32, putInt64, putInt64Exact } from '../coerce/binary-int.js';
import { NEGATIVE, POSITIVE, writeNumericHeader } from '../coerce/binary-numeric.js';
import type { CopyTextBuffer } from '../copy-text.js';

/** Writes the field (length prefix and payload) and returns true, or writes nothing and returns false. */
export type TypedWriter = (value: unknown, out: CopyTextBuffer) => boolean;

/** 2000-01-01 (PostgreSQL's epoch) in days since 1970-01-01. */
const POSTGRES_EPOCH_DAYS = 10_957;
const POSTGRES_EPOCH_MILLIS = POSTGRES_EPOCH_DAYS * 86_400_000;
const POSTGRES_EPOCH_MICROS = POSTGRES_EPOCH_MILLIS * 1000;
/** 0001-01-01 and 9999-12-31, the years the coercers take, in days since 1970-01-01. */
const FIRST_DAY = -719_162;
const LAST_DAY = 2_932_896;
const FIRST_MILLIS = FIRST_DAY * 86_400_000;
const END_MILLIS = (LAST_DAY + 1) * 86_400_000;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The writer for values of `cell` into `column` in binary COPY, or undefined when that pair always
 * takes the generic path (a date format on the column, a float32, a type cast the coercer decides).
 */
export function typedWriter(cell: CellType, column: ColumnContract): TypedWriter | undefined {
  // A number format is for numbers written as text; a number the file holds as a number does not need it.
  const number = cell.kind === 'integer' || cell.kind === 'double' || cell.kind === 'decimal';
  if (column.format !== undefined && !number) return undefined;
  const type = column.type;
  switch (cell.kind) {
    case 'integer':
      if (type.kind === 'bigint') return writeBigint;
      if (type.kind === 'integer') return integerWriter(-2_147_483_648, 2_147_483_647, 4);
      if (type.kind === 'smallint') return integerWriter(-32_768, 32_767, 2);
      return undefined;
    case 'double':
      return type.kind === 'double precision' ? writeDouble : undefined;
    case 'boolean':
      return type.kind === 'boolean' ? writeBoolean : undefined;
    case 'date':
      return type.kind === 'date' ? writeDate : undefined;
    case 'timestamp':
      return type.kind === 'timestamp' || type.kind === 'timestamptz'
        ? timestampWriter(cell.unit)
        : undefined;
    case 'utf8':
      return type.kind === 'text' || (type.kind === 'varchar' && type.length === undefined)
        ? writeUtf8
        : undefined;
    case 'decimal': {
      if (type.kind !== 'numeric') return undefined;
      // numeric(p,s) of another scale rounds or pads: the coercer's call.
      if (type.precision !== undefined && (type.scale ?? 0) !== cell.scale) return undefined;
      return decimalWriter(cell.scale, type.precision);
    }
    case 'sheet':
      // XLSX cells have writers of their own (sheet-typed.ts), loaded with the XLSX reader.
      return undefined;
  }
}

function lengthPrefix(out: CopyTextBuffer, length: number): void {
  out.ensure(4 + length);
  put32(out.buf, out.pos, length);
  out.pos += 4;
}

/** A bigint value as a number when that is exact, else undefined. */
function exactNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value !== 'bigint') return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

function writeBigint(value: unknown, out: CopyTextBuffer): boolean {
  const n = exactNumber(value);
  if (n !== undefined) {
    lengthPrefix(out, 8);
    putInt64(out.buf, out.pos, n);
  } else if (typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX) {
    lengthPrefix(out, 8);
    out.buf.writeBigInt64BE(value, out.pos);
  } else return false;
  out.pos += 8;
  return true;
}

function integerWriter(min: number, max: number, bytes: 2 | 4): TypedWriter {
  return (value, out) => {
    const n = exactNumber(value);
    if (n === undefined || n < min || n > max) return false;
    lengthPrefix(out, bytes);
    const buf = out.buf;
    const pos = out.pos;
    if (bytes === 4) put32(buf, pos, n);
    else {
      buf[pos] = (n >> 8) & 0xff;
      buf[pos + 1] = n & 0xff;
    }
    out.pos = pos + bytes;
    return true;
  };
}

/** Every finite double is accepted as its shortest text; that text of -0 is `0`, stored as +0. */
function writeDouble(value: unknown, out: CopyTextBuffer): boolean {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  lengthPrefix(out, 8);
  out.pos = out.buf.writeDoubleBE(value === 0 ? 0 : value, out.pos);
  return true;
}

function writeBoolean(value: unknown, out: CopyTextBuffer): boolean {
  if (typeof value !== 'boolean') return false;
  lengthPrefix(out, 1);
  out.buf[out.pos++] = value ? 1 : 0;
  return true;
}

function writeDate(value: unknown, out: CopyTextBuffer): boolean {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < FIRST_DAY || value > LAST_DAY) {
    return false;
  }
  lengthPrefix(out, 4);
  put32(out.buf, out.pos, value - POSTGRES_EPOCH_DAYS);
  out.pos += 4;
  return true;
}

/**
 * int64 microseconds since 2000-01-01. A Parquet instant is written as its UTC time (timestamptz
 * loads in binary only in a UTC session; timestamp takes an instant's UTC wall time), a local
 * timestamp as its wall time: the same count either way. Nanoseconds are taken only when whole
 * microseconds (the coercer rounds the rest as PostgreSQL does).
 */
function timestampWriter(unit: 'MILLIS' | 'MICROS' | 'NANOS'): TypedWriter {
  switch (unit) {
    case 'MICROS':
      // A safe count of microseconds is within ±285 years of 1970: always years 0001–9999.
      return (value, out) => {
        const n = exactNumber(value);
        if (n === undefined) return false;
        writeMicros(n, out);
        return true;
      };
    case 'MILLIS':
      return (value, out) => {
        const n = exactNumber(value);
        if (n === undefined || n < FIRST_MILLIS || n >= END_MILLIS) return false;
        lengthPrefix(out, 8);
        putInt64Exact(out.buf, out.pos, n - POSTGRES_EPOCH_MILLIS, 1000, 0);
        out.pos += 8;
        return true;
      };
    case 'NANOS':
      return (value, out) => {
        let n: number | undefined;
        if (typeof value === 'number')
          n = Number.isSafeInteger(value) && value % 1000 === 0 ? value / 1000 : undefined;
        else if (typeof value === 'bigint' && value % 1000n === 0n) n = exactNumber(value / 1000n);
        if (n === undefined) return false;
        writeMicros(n, out);
        return true;
      };
  }
}

/** Microseconds since 1970 (a safe integer) as since 2000, through BigInt when the difference is not safe. */
function writeMicros(micros: number, out: CopyTextBuffer): void {
  lengthPrefix(out, 8);
  const since2000 = micros - POSTGRES_EPOCH_MICROS;
  if (Number.isSafeInteger(since2000)) putInt64(out.buf, out.pos, since2000);
  else out.buf.writeBigInt64BE(BigInt(micros) - BigInt(POSTGRES_EPOCH_MICROS), out.pos);
  out.pos += 8;
}

/** Node's encoder without Buffer#write's argument parsing (on every Buffer; @types/node omits it). */
type Utf8Writable = Buffer & { utf8Write(text: string, offset: number): number };

/**
 * Non-empty text without NUL, as a string, valid UTF-8 bytes (hyparquet's STRING values) or bytes in
 * place (arrow-rs's, a ByteSpan). An empty value may have a default and a bad one is rejected: both
 * take the generic path.
 */
function writeUtf8(value: unknown, out: CopyTextBuffer): boolean {
  if (typeof value === 'string') {
    if (value.length === 0 || value.includes('\u0000')) return false;
    // At most three UTF-8 bytes per UTF-16 unit.
    out.ensure(4 + value.length * 3);
    const at = out.pos;
    const length = (out.buf as Utf8Writable).utf8Write(value, at + 4);
    put32(out.buf, at, length);
    out.pos = at + 4 + length;
    return true;
  }
  if (value instanceof ByteSpan) {
    const { src, start, end } = value;
    const length = end - start;
    if (length === 0) return false;
    // The value's own bytes: a search from `start` in the whole buffer would run on past `end`.
    const bytes = src.subarray(start, end);
    if (bytes.indexOf(0) !== -1 || (!value.valid && !isUtf8(bytes))) return false;
    lengthPrefix(out, length);
    out.buf.set(bytes, out.pos);
    out.pos += length;
    return true;
  }
  if (!(value instanceof Uint8Array) || value.length === 0) return false;
  const length = value.length;
  if (value.indexOf(0) !== -1 || !isUtf8(value)) return false;
  lengthPrefix(out, length);
  out.buf.set(value, out.pos);
  out.pos += length;
  return true;
}

const TEN_POWERS = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * numeric_send's layout for an unscaled integer of `scale` (the column's own scale, or an
 * unconstrained column, whose display scale is then the written fraction digits: `scale`). Values
 * of `precision` digits or more are the coercer's to refuse.
 */
function decimalWriter(scale: number, precision: number | undefined): TypedWriter {
  if (scale < 0 || scale > 15) return () => false;
  const unit = TEN_POWERS[scale] as number;
  const limit =
    precision === undefined || precision > 15 ? Number.MAX_SAFE_INTEGER : (TEN_POWERS[precision] as number);
  const fractionGroups = Math.ceil(scale / 4);
  // The fraction scaled up to whole base-10000 groups.
  const fractionShift = TEN_POWERS[fractionGroups * 4 - scale] as number;
  // Base-10000 groups, least significant first: at most 4 for a safe integer, plus the fraction's.
  const groups = new Array<number>(8 + fractionGroups).fill(0);
  return (value, out) => {
    const n = exactNumber(value);
    if (n === undefined || Math.abs(n) >= limit) return false;
    const magnitude = Math.abs(n);
    let whole = Math.floor(magnitude / unit);
    let fraction = (magnitude - whole * unit) * fractionShift;
    let count = 0;
    // Fraction groups, least significant first, then the integer's.
    for (; count < fractionGroups; count++) {
      groups[count] = fraction % 10_000;
      fraction = Math.floor(fraction / 10_000);
    }
    for (; whole > 0; count++) {
      groups[count] = whole % 10_000;
      whole = Math.floor(whole / 10_000);
    }
    let high = count - 1;
    while (high >= 0 && groups[high] === 0) high--;
    let low = 0;
    while (low <= high && groups[low] === 0) low++;
    const ndigits = high < 0 ? 0 : high - low + 1;
    // Group index i (from the least significant) has weight i - fractionGroups.
    const weight = ndigits === 0 ? 0 : high - fractionGroups;
    const sign = n < 0 && ndigits > 0 ? NEGATIVE : POSITIVE;
    lengthPrefix(out, 8 + 2 * ndigits);
    writeNumericHeader(out, ndigits, weight, sign, scale);
    const buf = out.buf;
    let pos = out.pos;
    for (let g = high; g >= low; g--) {
      const group = groups[g] as number;
      buf[pos++] = group >> 8;
      buf[pos++] = group & 0xff;
    }
    out.pos = pos;
    return true;
  };
}
