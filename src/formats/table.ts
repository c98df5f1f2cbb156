/**
 * What a reader of a binary tabular format (Parquet, XLSX) hands to the engine: the file's column
 * names, a converter per (file column, contract column) that turns a cell into the text the
 * contract's coercers read, and the rows in batches. The engine maps columns by name (drift rules),
 * coerces, rejects and COPYs exactly as it does for CSV.
 */
import { isNumberType } from '../model/column-type.js';
import type { ColumnContract } from '../model/contract.js';
import type { DateSystem, FormatKind } from './xlsx/dates.js';

/** A cell that cannot become a value of its column (an Excel error, a binary blob into text). */
export class CellProblem {
  constructor(
    readonly reason: string,
    /** The cell as the file has it, for the reject record. */
    readonly raw?: string,
  ) {}
}

const NO_BYTES = new Uint8Array(0);

/** Why a string with a NUL is refused (the engine's words for a string; bytes say "a NUL byte"). */
export const NUL_IN_TEXT = 'contains a NUL character, which PostgreSQL cannot store in text';

/**
 * UTF-8 text where the reader already holds it (a range of the file's bytes, a table of strings), so
 * that a value reaches its coercer without a string or a copy. A converter fills in one instance and
 * returns it for every cell: the engine reads it before asking for the next.
 */
export class ByteSpan {
  src: Uint8Array = NO_BYTES;
  start = 0;
  end = 0;
  /** The bytes are known to be valid UTF-8 without NUL; otherwise the engine checks them as it does bytes. */
  valid = false;

  set(src: Uint8Array, start: number, end: number, valid: boolean): this {
    this.src = src;
    this.start = start;
    this.end = end;
    this.valid = valid;
    return this;
  }
}

/**
 * A number the file holds as a number (an XLSX number cell, a Parquet number), in plain form (`-1234.5`):
 * read without the column's number `format` (e.g. `1.234,56`), which is for numbers written as text. A
 * converter fills in one instance and returns it for every such cell, as with ByteSpan.
 */
export class PlainNumber {
  text: string | Uint8Array | ByteSpan = '';

  set(text: string | Uint8Array | ByteSpan): this {
    this.text = text;
    return this;
  }
}

/** Text (a string, UTF-8 bytes, or bytes in place) for the column's coercer, or why the cell is refused. */
export type CellText = string | Uint8Array | ByteSpan | PlainNumber | CellProblem;

/**
 * A converter of numbers as the file holds them, marked as such for a column with a number `format`
 * (whose coercer reads text in that layout); other columns take the converter as it is.
 */
export function numbersAsNumbers(column: ColumnContract, convert: CellConverter): CellConverter {
  if (column.format === undefined || !isNumberType(column.type)) return convert;
  const plain = new PlainNumber();
  return (value) => {
    const text = convert(value);
    return text instanceof CellProblem || text instanceof PlainNumber ? text : plain.set(text);
  };
}

export type CellConverter = ((value: unknown) => CellText) & {
  /** Its strings are always ASCII (numbers, dates, booleans): written without the checks text needs. */
  readonly ascii?: true;
};

/** Marks a converter whose strings are always ASCII, so the engine skips the UTF-8 and NUL checks. */
export function asciiOnly(convert: (value: unknown) => string | CellProblem): CellConverter {
  return Object.assign(convert, { ascii: true as const });
}

/**
 * What a file column's decoded values are, for the engine to write them to binary COPY directly where
 * the contract column's type allows (see engine/encode/typed.ts); values it cannot write that way go
 * through the converter and the coercer as every other value does.
 */
export type CellType =
  /** number or bigint, exact. */
  | { readonly kind: 'integer' }
  /** A float64 as a number. */
  | { readonly kind: 'double' }
  /** Unscaled integer (number or bigint) of a decimal with this scale. */
  | { readonly kind: 'decimal'; readonly scale: number }
  | { readonly kind: 'boolean' }
  /** Days since 1970-01-01 as a number. */
  | { readonly kind: 'date' }
  /** A count (number or bigint) of `unit` since 1970-01-01 00:00, UTC or wall time alike. */
  | { readonly kind: 'timestamp'; readonly unit: 'MILLIS' | 'MICROS' | 'NANOS' }
  /** Text: a string, UTF-8 bytes (Uint8Array) or UTF-8 bytes in place (ByteSpan). */
  | { readonly kind: 'utf8' }
  /**
   * An XLSX cell as the sheet reader hands it (a SheetCellView, formats/xlsx/sheet-cells.ts): each
   * cell's own kind says what it holds, the workbook's styles whether a number is shown as a date.
   */
  | { readonly kind: 'sheet'; readonly styles: readonly FormatKind[]; readonly system: DateSystem };

export interface TableBatch {
  readonly rows: number;
  /**
   * The cell at (file column, row); null or undefined when empty. It may be a view that the next call
   * repoints (XLSX): convert it before asking for another.
   */
  value(field: number, row: number): unknown;
  /** The row's line (XLSX: its row number in the sheet); undefined where lines do not apply (Parquet). */
  line(row: number): number | undefined;
  /** Why the row as a whole is refused (XLSX: a value right of the header), if it is. */
  problem?(row: number): string | undefined;
  /** Whether the cell holds nothing; without this, a null or undefined value does (XLSX: also an empty string). */
  blank?(field: number, row: number): boolean;
}

export interface TableReader {
  /** The file's column names, in file order. */
  readonly fields: readonly string[];
  /** How drift messages name the header: `The Parquet schema`, `The header of sheet "Orders" (row 1)`. */
  readonly header: { readonly what: string; readonly line?: number };
  /** Details for the ledger (row groups, sheet, how the file was read). */
  readonly details: Readonly<Record<string, unknown>>;
  /** Throws a FormatError when the file column can never feed the contract column. */
  converter(field: number, column: ColumnContract): CellConverter;
  /** What the field's values are, when the engine may write them without text; undefined otherwise. */
  cellType?(field: number): CellType | undefined;
  /**
   * The rows, reading only the file columns in `used`. A batch is valid until the next is asked for
   * (XLSX refills the batch before): read it through first.
   */
  batches(used: readonly number[]): AsyncIterable<TableBatch>;
  /** Reads what is left of the object and frees temporary files; call once the rows are consumed. */
  finish(): Promise<void>;
  /** Frees everything after a failure. */
  close(): Promise<void>;
}

const BIGINT_MARK = '\u0000bigint:';

function jsonReplacer(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${BIGINT_MARK}${value}`;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value instanceof Uint8Array) {
    const buffer = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const text = buffer.toString('utf8');
    return Buffer.byteLength(text) === buffer.length && !text.includes('\ufffd')
      ? text
      : buffer.toString('base64');
  }
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

/**
 * JSON text for jsonb columns and nested values: bigints as plain digits (JSON.stringify cannot write
 * them: they are marked as strings, then unquoted), bytes as UTF-8 text when they are (else base64),
 * non-finite numbers as strings (JSON has no NaN).
 */
export function jsonText(value: unknown): string {
  const text = JSON.stringify(value, jsonReplacer) ?? 'null';
  // JSON.stringify escapes the mark's NUL as \u0000.
  return text.includes('\\u0000bigint:') ? text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1') : text;
}
