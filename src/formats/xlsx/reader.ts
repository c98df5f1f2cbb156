/**
 * XLSX workbooks: the zip's directory is read first (by range, or from the spool), then the small
 * parts (workbook, relationships, styles, shared strings), then the chosen sheet is inflated and
 * parsed as it streams, a batch of rows per chunk. Memory is the shared strings (which the format
 * keeps in one table) plus one chunk of rows.
 */

import { FormatError } from '../../errors.js';
import type { ColumnContract, XlsxOptions } from '../../model/contract.js';
import type { RandomAccessInput } from '../random-access.js';
import { type CellConverter, CellProblem, type TableBatch, type TableReader } from '../table.js';
import { ZipArchive } from '../zip/archive.js';
import { type DateSystem, type FormatKind, serialText } from './dates.js';
import { columnLetters, type SheetRow, XlsxCell } from './sheet.js';
import { sheetRows } from './sheet-scanner.js';
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
  const pending: SheetRow[] = [];
  let header: SheetRow | undefined;
  while (header === undefined) {
    const next = await rows.next();
    if (next.done) break;
    for (const row of next.value) {
      if (header === undefined && row.line === headerRow) header = row;
      else if (header === undefined && row.line > headerRow) {
        throw new FormatError(
          'xlsx_no_header',
          `Row ${headerRow} of sheet "${sheet.name}" is empty, so it has no column names (xlsx.headerRow is ${headerRow}). Set xlsx.headerRow to the row that holds them.`,
          { location: { source, line: headerRow } },
        );
      } else if (header !== undefined) pending.push(row);
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

  return {
    workbook,
    sheet,
    fields,
    header: { what: `The header of sheet "${sheet.name}" (row ${headerRow})`, line: headerRow },
    details: { sheet: sheet.name, headerRow, dateSystem: workbook.dateSystem, read: input.mode },
    converter(_field: number, column: ColumnContract): CellConverter {
      return xlsxConverter(column, workbook.styles, workbook.dateSystem);
    },
    async *batches(): AsyncGenerator<TableBatch> {
      if (pending.length > 0) yield batchOf(pending.splice(0), fields.length);
      for await (const batch of rows) yield batchOf(batch, fields.length);
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

function batchOf(rows: readonly SheetRow[], width: number): TableBatch {
  return {
    rows: rows.length,
    value: (field, row) => (rows[row] as SheetRow).cells[field],
    line: (row) => (rows[row] as SheetRow).line,
    problem: (row) => {
      const cells = (rows[row] as SheetRow).cells;
      for (let i = width; i < cells.length; i++) {
        const cell = cells[i];
        if (cell !== undefined && cell.text !== '') {
          return `has a value in column ${columnLetters(i)}, right of the header's last column ${columnLetters(width - 1)}`;
        }
      }
      return undefined;
    },
  };
}

const TEMPORAL = new Set(['date', 'timestamp', 'timestamptz']);
const NUMERIC = new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision', 'boolean']);

/**
 * A cell → text for the column's coercer. Numbers are dates when the column is a date or timestamp,
 * or when the cell's format shows a date (into a text column, the date as ISO 8601); into a numeric
 * column a number stays a number. Excel errors (#N/A, #DIV/0!) are rejects.
 */
export function xlsxConverter(
  column: ColumnContract,
  styles: readonly FormatKind[],
  system: DateSystem,
): CellConverter {
  const kind = column.type.kind;
  const temporal = TEMPORAL.has(kind);
  const numeric = NUMERIC.has(kind);
  return (value) => {
    const cell = value as XlsxCell;
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

export { XlsxCell };
