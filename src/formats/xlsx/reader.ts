/**
 * XLSX workbooks: the zip's directory is read first (by range, or from the spool), then the small
 * parts (workbook, relationships, styles, shared strings), then the chosen sheet is inflated and
 * parsed as it streams, a batch of rows per chunk. Memory is the shared strings (which the format
 * keeps in one table) plus one chunk of rows.
 */

import { FormatError } from '../../errors.js';
import type { ColumnContract, XlsxOptions } from '../../model/contract.js';
import type { RandomAccessInput } from '../random-access.js';
import {
  ByteSpan,
  type CellConverter,
  CellProblem,
  type CellType,
  numbersAsNumbers,
  type TableBatch,
  type TableReader,
} from '../table.js';
import { ZipArchive } from '../zip/archive.js';
import { type DateSystem, type FormatKind, serialText } from './dates.js';
import { columnLetters, type SheetCell, type SheetRow, XlsxCell } from './sheet.js';
import { Kind, type SheetCells, SheetCellView } from './sheet-cells.js';
import { sheetRows } from './sheet-scanner.js';
import { decimalValue, isPlainNumber, writeSerial } from './typed-cells.js';
import { readWorkbook, type SheetInfo, type Workbook } from './workbook.js';

export interface XlsxReaderOptions {
  readonly source: string;
  readonly maxDecompressedBytes: number;
  readonly maxCompressionRatio: number;
  readonly options?: XlsxOptions;
}

export interface XlsxTableReader extends TableReader {
  readonly workbook: Workbook;
  readonly sheet: SheetInfo;
}

export async function openXlsx(
  input: RandomAccessInput,
  options: XlsxReaderOptions,
): Promise<XlsxTableReader> {
  const { source } = options;
  const archive = await ZipArchive.open(input, {
    source,
    what: 'The XLSX workbook',
    maxDecompressedBytes: options.maxDecompressedBytes,
    maxCompressionRatio: options.maxCompressionRatio,
  });
  const workbook = await readWorkbook(archive, source);
  const sheet = chooseSheet(workbook, options.options?.sheet, source);
  const entry = archive.entries.get(sheet.part);
  if (entry === undefined) {
    throw new FormatError(
      'corrupt_xlsx',
      `The XLSX workbook is damaged: sheet "${sheet.name}" (${sheet.part}) is missing from it.`,
      {
        location: { source },
      },
    );
  }
  const headerRow = options.options?.headerRow ?? 1;
  const rows = sheetRows(archive, entry, workbook.sharedStrings, sheet.name, source);
  /** The rows read past the header while looking for it: the batch it was in, from the row after it. */
  let pending: { cells: SheetCells; first: number } | undefined;
  let header: SheetRow | undefined;
  while (header === undefined) {
    const next = await rows.next();
    if (next.done) break;
    const cells = next.value;
    for (let row = 0; row < cells.rows; row++) {
      const line = cells.lines[row] as number;
      if (line === headerRow) {
        header = cells.toRow(row);
        if (row + 1 < cells.rows) pending = { cells, first: row + 1 };
        break;
      }
      if (line > headerRow) {
        throw new FormatError(
          'xlsx_no_header',
          `Row ${headerRow} of sheet "${sheet.name}" is empty, so it has no column names (xlsx.headerRow is ${headerRow}). Set xlsx.headerRow to the row that holds them.`,
          { location: { source, line: headerRow } },
        );
      }
    }
  }
  if (header === undefined) {
    throw new FormatError(
      'empty_file',
      `Sheet "${sheet.name}" has no rows${headerRow > 1 ? ` from row ${headerRow} on` : ''}: there is nothing to load.`,
      { location: { source } },
    );
  }
  const fields = headerNames(header);
  const cellType: CellType = { kind: 'sheet', styles: workbook.styles, system: workbook.dateSystem };

  return {
    workbook,
    sheet,
    fields,
    header: { what: `The header of sheet "${sheet.name}" (row ${headerRow})`, line: headerRow },
    details: { sheet: sheet.name, headerRow, dateSystem: workbook.dateSystem, read: input.mode },
    converter(_field: number, column: ColumnContract): CellConverter {
      const convert = xlsxConverter(column, workbook.styles, workbook.dateSystem);
      if (column.format === undefined) return convert;
      // Number cells are numbers already; text cells are read in the column's number format.
      const marked = numbersAsNumbers(column, convert);
      return (value) => (isNumberCell(value) ? marked(value) : convert(value));
    },
    cellType: () => cellType,
    async *batches(): AsyncGenerator<TableBatch> {
      if (pending !== undefined) {
        const { cells, first } = pending;
        pending = undefined;
        yield new SheetBatch(cells, first, fields.length);
      }
      for await (const cells of rows) yield new SheetBatch(cells, 0, fields.length);
    },
    finish: () => input.finish(),
    close: async () => {
      await rows.return(undefined);
      await input.close();
    },
  };
}

function chooseSheet(workbook: Workbook, wanted: string | number | undefined, source: string): SheetInfo {
  const names = workbook.sheets.map((s) => JSON.stringify(s.name)).join(', ');
  if (workbook.sheets.length === 0) {
    throw new FormatError('corrupt_xlsx', 'The XLSX workbook lists no sheets.', { location: { source } });
  }
  if (wanted === undefined) return workbook.sheets[0] as SheetInfo;
  const found =
    typeof wanted === 'number'
      ? workbook.sheets[wanted - 1]
      : (workbook.sheets.find((s) => s.name === wanted) ??
        workbook.sheets.find((s) => s.name.trim().toLowerCase() === wanted.trim().toLowerCase()));
  if (found === undefined) {
    throw new FormatError(
      'xlsx_no_such_sheet',
      `The workbook has no sheet ${typeof wanted === 'number' ? `number ${wanted}` : JSON.stringify(wanted)} (xlsx.sheet); its sheets are ${names}.`,
      { location: { source } },
    );
  }
  return found;
}

/** Column names from the header row: trailing empty cells dropped, empty ones inside named by letter. */
function headerNames(row: SheetRow): string[] {
  const names = row.cells.map((cell, i) =>
    cell === undefined || cell.text.trim() === '' ? `(column ${columnLetters(i)})` : cell.text,
  );
  let end = names.length;
  while (end > 0 && (row.cells[end - 1] === undefined || row.cells[end - 1]?.text.trim() === '')) end--;
  return names.slice(0, end);
}

/**
 * Rows as objects (XlsxCell values): how the reader handed them out before SheetBatch, kept as the
 * reference its tests compare SheetBatch with.
 */
export function objectBatch(rows: readonly SheetRow[], width: number): TableBatch {
  return {
    rows: rows.length,
    value: (field, row) => (rows[row] as SheetRow).cells[field],
    line: (row) => (rows[row] as SheetRow).line,
    problem: (row) => {
      const cells = (rows[row] as SheetRow).cells;
      for (let i = width; i < cells.length; i++) {
        const cell = cells[i];
        if (cell !== undefined && cell.text !== '') return rightOfHeader(i, width);
      }
      return undefined;
    },
  };
}

function rightOfHeader(column: number, width: number): string {
  return `has a value in column ${columnLetters(column)}, right of the header's last column ${columnLetters(width - 1)}`;
}

/**
 * Rows `first…` of a SheetCells. `value()` hands out one SheetCellView pointed at the cell asked for,
 * valid until the next call (TableBatch allows it), so reading cells makes no object per cell.
 */
export class SheetBatch implements TableBatch {
  readonly rows: number;
  private readonly view: SheetCellView;

  constructor(
    readonly cells: SheetCells,
    /** The batch's first row in `cells`. */
    readonly first: number,
    private readonly width: number,
  ) {
    this.rows = cells.rows - first;
    this.view = new SheetCellView(cells);
  }

  value(field: number, row: number): SheetCellView | undefined {
    const index = this.cells.find(row + this.first, field);
    if (index < 0) return undefined;
    this.view.index = index;
    return this.view;
  }

  line(row: number): number {
    return this.cells.lines[row + this.first] as number;
  }

  blank(field: number, row: number): boolean {
    const index = this.cells.find(row + this.first, field);
    return index < 0 || this.cells.isEmpty(index);
  }

  problem(row: number): string | undefined {
    const cells = this.cells;
    const at = row + this.first;
    const end = cells.rowEnds[at] as number;
    const width = this.width;
    let first = -1;
    if (cells.ordered[at]) {
      for (let i = cells.rowStart(at); i < end && first < 0; i++)
        if ((cells.columns[i] as number) >= width && !cells.isEmpty(i)) first = cells.columns[i] as number;
    } else {
      // A column written twice keeps its last cell.
      for (const [column, i] of cells.lastCells(at))
        if (column >= width && (first < 0 || column < first) && !cells.isEmpty(i)) first = column;
    }
    return first < 0 ? undefined : rightOfHeader(first, width);
  }
}

const TEMPORAL = new Set(['date', 'timestamp', 'timestamptz']);
const NUMERIC = new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision', 'boolean']);

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');

/**
 * A cell → text for the column's coercer. Numbers are dates when the column is a date or timestamp,
 * or when the cell's format shows a date (into a text column, the date as ISO 8601); into a numeric
 * column a number stays a number. Excel errors (#N/A, #DIV/0!) are rejects.
 *
 * A cell read through a SheetCellView gives its text as bytes in place where it can (a ByteSpan: the
 * number as the sheet wrote it, the shared string's UTF-8, the date written into a scratch buffer),
 * the same bytes the text would be; anything else takes the text path, `referenceConverter`.
 */
export function xlsxConverter(
  column: ColumnContract,
  styles: readonly FormatKind[],
  system: DateSystem,
): CellConverter {
  const reference = referenceConverter(column, styles, system);
  const kind = column.type.kind;
  const temporal = TEMPORAL.has(kind);
  const numeric = NUMERIC.has(kind);
  const span = new ByteSpan();
  const scratch = Buffer.alloc(32);
  return (value) => {
    if (!(value instanceof SheetCellView)) return reference(value);
    const cells = value.cells;
    const i = value.index;
    const src = cells.srcs[i];
    const start = cells.starts[i] as number;
    const end = cells.ends[i] as number;
    switch (cells.kinds[i]) {
      case Kind.Shared: {
        const strings = cells.sharedStrings;
        if (strings.nul[start] === 1) break;
        return span.set(
          strings.bytes,
          strings.offsets[start] as number,
          strings.offsets[start + 1] as number,
          true,
        );
      }
      case Kind.String:
      case Kind.Date:
        if (src === undefined) break;
        return span.set(src, start, end, true);
      case Kind.Boolean:
        if (src === undefined || end - start !== 1) break;
        if (src[start] === 0x31) return span.set(TRUE, 0, 4, true);
        if (src[start] === 0x30) return span.set(FALSE, 0, 5, true);
        break;
      case Kind.Number: {
        const format = styles[cells.styles[i] as number] ?? 'number';
        if (numeric || (!temporal && format === 'number')) {
          if (src !== undefined && isPlainNumber(src, start, end)) return span.set(src, start, end, true);
          break;
        }
        const serial = src === undefined ? Number.NaN : decimalValue(src, start, end);
        const length = writeSerial(Number.isNaN(serial) ? Number(cells.text(i)) : serial, system, scratch);
        if (length < 0) break;
        return span.set(scratch, 0, length, true);
      }
    }
    return reference(value);
  };
}

/** The text path: every cell a SheetCellView cannot give as bytes, and any other SheetCell. */
function referenceConverter(
  column: ColumnContract,
  styles: readonly FormatKind[],
  system: DateSystem,
): (value: unknown) => string | CellProblem {
  const kind = column.type.kind;
  const temporal = TEMPORAL.has(kind);
  const numeric = NUMERIC.has(kind);
  return (value) => {
    const cell = value as SheetCell;
    switch (cell.kind) {
      case 'error':
        return new CellProblem(`is an Excel error (${cell.text})`, cell.text);
      case 'boolean':
        return cell.text === '1' || cell.text.toLowerCase() === 'true' ? 'true' : 'false';
      case 'string':
      case 'date':
        return cell.text;
      case 'number': {
        const format = styles[cell.style] ?? 'number';
        if (numeric || (!temporal && format === 'number')) return numberText(cell.text);
        const date = serialText(Number(cell.text), system);
        if (!date.ok) return new CellProblem(date.reason, cell.text);
        if (temporal && !date.hasDate) return new CellProblem('is a time of day without a date', date.text);
        return date.text;
      }
    }
  };
}

/** Plain decimals that already read as they would be written back: no exponent, sign of zero or stray zeros. */
const PLAIN_NUMBER = /^-?(?:[1-9]\d*|0(?!\.0{6}))(?:\.\d*[1-9])?$/;

/** Excel keeps 15 significant digits; `0.30000000000000004` as stored is the 0.3 a person typed. */
export function numberText(text: string): string {
  // Most cells (`42`, `1234.5`) are plain with at most 15 digits: already the text the slow path would give.
  if (text.length <= 17 && PLAIN_NUMBER.test(text) && text !== '-0') {
    const digits = text.length - (text.charCodeAt(0) === 0x2d ? 1 : 0) - (text.includes('.') ? 1 : 0);
    if (digits <= 15) return text;
  }
  const n = Number(text);
  if (text === '' || !Number.isFinite(n)) return text;
  return exactNumberText(n);
}

/** The 15-significant-digit text of a number, the slow way: every cell that is not plain takes it. */
export function exactNumberText(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : String(Number(n.toPrecision(15)));
}

export { type SheetCell, XlsxCell };

/** An XLSX cell of type number (not a date: a date-styled number is read by the date rules). */
function isNumberCell(value: unknown): boolean {
  return (value instanceof SheetCellView || value instanceof XlsxCell) && value.kind === 'number';
}
