/**
 * CSV for people who open exports in spreadsheets (RFC 4180, CRLF line ends).
 * A cell beginning with = + - @, tab or CR can run as a formula in Excel, LibreOffice or Sheets
 * (OWASP "CSV injection"), so such text cells get a leading `'`, which those programs treat as
 * "this is text". Numbers are written as they are: they come from Inlet, not from the file.
 */
export type CsvCell = string | number | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(cells: readonly CsvCell[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
