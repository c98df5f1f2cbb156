/**
 * Binary COPY fields written straight from XLSX cells (a SheetCellView), the sheet's counterpart of
 * typed.ts: a number as the sheet wrote it into an integer or numeric column by the column's own plain
 * encoder, a date serial into a date or timestamp column as its day and time, a shared string or plain
 * text into a text column as its UTF-8, a boolean as its byte. No converter, ByteSpan or coercer call
 * in between: for the bench's sheet they were half of the load's CPU after the scanning.
 *
 * Each writer takes only cells whose result is certain and equal to the text path's (xlsxConverter
 * gives these cells' text as their own bytes or a serial's ISO text, and the coercer's plain path reads
 * it back to the same value); anything else it declines, writing nothing, and the cell goes the generic
 * way, so every reject keeps its reason. test/unit/engine/encode/xlsx-cells.test.ts compares both ways.
 */
import type { CellType } from '../../formats/table.js';
import type { DateSystem, FormatKind } from '../../formats/xlsx/dates.js';
import { Kind, type SheetCells, SheetCellView } from '../../formats/xlsx/sheet-cells.js';
import {
  decimalValue,
  isPlainNumber,
  type SerialMoment,
  serialMoment,
  serialMomentOfDigits,
} from '../../formats/xlsx/typed-cells.js';
import type { ColumnContract } from '../../model/contract.js';
import { put32, putInt64Exact } from '../coerce/binary-int.js';
import { makePlainIntegerEncoder } from '../coerce/binary-integer-plain.js';
import { makePlainNumericEncoder } from '../coerce/binary-numeric-plain.js';
import type { CopyTextBuffer } from '../copy-text.js';

type SheetCellType = Extract<CellType, { kind: 'sheet' }>;

/** As typed.ts's TypedWriter: writes the field and returns true, or writes nothing and returns false. */
type TypedWriter = (value: unknown, out: CopyTextBuffer) => boolean;

/** 2000-01-01 (PostgreSQL's epoch) in days since 1970-01-01. */
const POSTGRES_EPOCH_DAYS = 10_957;
const DAY_MS = 86_400_000;

/** Writes the bytes of a plain number into a field, as the column's plain encoder reads them; false when it declines. */
type PlainEncoder = (src: Uint8Array, start: number, end: number, out: CopyTextBuffer) => boolean;

/** The writer for sheet cells into `column` in binary COPY, or undefined when every cell takes the generic path. */
export function sheetWriter(cell: SheetCellType, column: ColumnContract): TypedWriter | undefined {
  if (column.format !== undefined) return undefined;
  const type = column.type;
  switch (type.kind) {
    case 'smallint':
    case 'integer':
    case 'bigint':
      return numberWriter(makePlainIntegerEncoder(type.kind));
    case 'numeric':
      // numeric without a precision is written at the literal's own scale: the coercer's general path.
      return type.precision === undefined
        ? undefined
        : numberWriter(makePlainNumericEncoder(type.precision, type.scale ?? 0));
    case 'double precision':
      return writeDouble;
    case 'boolean':
      return writeBoolean;
    case 'date':
      return serialWriter(cell.system, writeDate);
    case 'timestamp':
    case 'timestamptz':
      // Binary COPY takes timestamptz only in a UTC session: the serial's wall time is its UTC time.
      return serialWriter(cell.system, writeTimestamp);
    case 'text':
      return textWriter(cell.styles);
    case 'varchar':
      return type.length === undefined ? textWriter(cell.styles) : undefined;
    default:
      return undefined;
  }
}

/** Reserves the length prefix of a field; `endField` fills it in. */
function startField(out: CopyTextBuffer): number {
  out.ensure(4);
  const at = out.pos;
  out.pos += 4;
  return at;
}

function endField(out: CopyTextBuffer, at: number): true {
  put32(out.buf, at, out.pos - at - 4);
  return true;
}

/**
 * A number cell the sheet wrote plainly (its bytes already the text the converter gives) into an integer
 * or numeric(p,s) column: the bytes the coercer's plain path would read, read by that same path.
 */
function numberWriter(plain: PlainEncoder): TypedWriter {
  return (value, out) => {
    if (!(value instanceof SheetCellView)) return false;
    const cells = value.cells;
    const i = value.index;
    const src = cells.srcs[i];
    if (cells.kinds[i] !== Kind.Number || src === undefined) return false;
    const start = cells.starts[i] as number;
    const end = cells.ends[i] as number;
    if (!isPlainNumber(src, start, end)) return false;
    const at = startField(out);
    if (plain(src, start, end, out)) return endField(out, at);
    out.pos = at;
    return false;
  };
}

/** A plain number into double precision: its exact value, what the coercer reads from the same text. */
function writeDouble(value: unknown, out: CopyTextBuffer): boolean {
  if (!(value instanceof SheetCellView)) return false;
  const cells = value.cells;
  const i = value.index;
  const src = cells.srcs[i];
  if (cells.kinds[i] !== Kind.Number || src === undefined) return false;
  const start = cells.starts[i] as number;
  const end = cells.ends[i] as number;
  if (!isPlainNumber(src, start, end)) return false;
  // decimalValue takes no sign; a plain negative number is its magnitude negated, as Number() reads it.
  const negative = src[start] === 0x2d;
  const magnitude = decimalValue(src, negative ? start + 1 : start, end);
  if (Number.isNaN(magnitude)) return false;
  out.ensure(12);
  put32(out.buf, out.pos, 8);
  out.pos = out.buf.writeDoubleBE(negative ? -magnitude : magnitude, out.pos + 4);
  return true;
}

/** `t="b"` with `1` or `0`, which the converter gives as `true` or `false`. */
function writeBoolean(value: unknown, out: CopyTextBuffer): boolean {
  if (!(value instanceof SheetCellView)) return false;
  const cells = value.cells;
  const i = value.index;
  const src = cells.srcs[i];
  const start = cells.starts[i] as number;
  if (cells.kinds[i] !== Kind.Boolean || src === undefined || (cells.ends[i] as number) - start !== 1)
    return false;
  const byte = src[start];
  if (byte !== 0x30 && byte !== 0x31) return false;
  out.ensure(5);
  put32(out.buf, out.pos, 1);
  out.buf[out.pos + 4] = byte === 0x31 ? 1 : 0;
  out.pos += 5;
  return true;
}

/**
 * A number cell into a date or timestamp column is a serial whatever its style (as the converter
 * reads it): its moment, from its bytes when that is exact, written by `write`, which may decline.
 */
function serialWriter(
  system: DateSystem,
  write: (moment: SerialMoment, out: CopyTextBuffer) => boolean,
): TypedWriter {
  const moment: SerialMoment = { days: 0, ms: 0 };
  return (value, out) => {
    if (!(value instanceof SheetCellView)) return false;
    const cells = value.cells;
    const i = value.index;
    const src = cells.srcs[i];
    if (cells.kinds[i] !== Kind.Number || src === undefined) return false;
    const start = cells.starts[i] as number;
    const end = cells.ends[i] as number;
    const serial = decimalValue(src, start, end);
    if (!Number.isNaN(serial)) return serialMoment(serial, system, moment) && write(moment, out);
    // A serial with a time to the millisecond has more digits than decimalValue reads exactly: read
    // from its digits, or (near a rounding edge) from its text, as the converter reads it.
    const read = serialMomentOfDigits(src, start, end, system, moment);
    if (read !== undefined) return read && write(moment, out);
    return serialMoment(Number(cells.text(i)), system, moment) && write(moment, out);
  };
}

/** A serial of a whole day (its text `YYYY-MM-DD`); one with a time of day is the coercer's to judge. */
function writeDate(moment: SerialMoment, out: CopyTextBuffer): boolean {
  if (moment.ms !== 0) return false;
  out.ensure(8);
  put32(out.buf, out.pos, 4);
  put32(out.buf, out.pos + 4, moment.days - POSTGRES_EPOCH_DAYS);
  out.pos += 8;
  return true;
}

/** int64 microseconds since 2000-01-01 of the serial's wall time (whole milliseconds, as its text has). */
function writeTimestamp(moment: SerialMoment, out: CopyTextBuffer): boolean {
  out.ensure(12);
  put32(out.buf, out.pos, 8);
  putInt64Exact(out.buf, out.pos + 4, (moment.days - POSTGRES_EPOCH_DAYS) * DAY_MS + moment.ms, 1000, 0);
  out.pos += 12;
  return true;
}

/**
 * Text cells into text or unbounded varchar: a shared string's UTF-8 (one without NUL), an inline or
 * formula string kept as its plain ASCII bytes, a number of a plain style as the sheet wrote it. Empty
 * values (a default may apply), dates shown as text and anything decoded take the generic path.
 */
function textWriter(styles: readonly FormatKind[]): TypedWriter {
  return (value, out) => {
    if (!(value instanceof SheetCellView)) return false;
    const cells = value.cells;
    const i = value.index;
    switch (cells.kinds[i]) {
      case Kind.Shared: {
        const strings = cells.sharedStrings;
        const index = cells.starts[i] as number;
        if (strings.nul[index] === 1) return false;
        return copyField(
          strings.bytes,
          strings.offsets[index] as number,
          strings.offsets[index + 1] as number,
          out,
        );
      }
      case Kind.String:
      case Kind.Date:
        return copySpan(cells, i, out);
      case Kind.Number: {
        if ((styles[cells.styles[i] as number] ?? 'number') !== 'number') return false;
        const src = cells.srcs[i];
        if (src === undefined || !isPlainNumber(src, cells.starts[i] as number, cells.ends[i] as number))
          return false;
        return copySpan(cells, i, out);
      }
      default:
        return false;
    }
  };
}

function copySpan(cells: SheetCells, i: number, out: CopyTextBuffer): boolean {
  const src = cells.srcs[i];
  return src !== undefined && copyField(src, cells.starts[i] as number, cells.ends[i] as number, out);
}

/** Non-empty bytes known to be UTF-8 without NUL, as a field. */
function copyField(src: Uint8Array, start: number, end: number, out: CopyTextBuffer): boolean {
  const length = end - start;
  if (length === 0) return false;
  out.ensure(4 + length);
  const buf = out.buf;
  put32(buf, out.pos, length);
  let pos = out.pos + 4;
  // A loop: for the short values of a sheet, cheaper than Buffer#copy's native call.
  for (let k = start; k < end; k++) buf[pos++] = src[k] as number;
  out.pos = pos;
  return true;
}
