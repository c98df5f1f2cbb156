/**
 * A worksheet's cells as sheet-scanner.ts reads them from `<row r="2"><c r="B2" t="s" s="1"><v>0</v></c>…`.
 * Cells keep their type (`t`), style (`s`) and text: shared-string indexes are resolved, inline
 * strings joined, formulas represented by their cached value (`<v>`), which Excel writes on save.
 */

export type CellKind = 'number' | 'string' | 'boolean' | 'error' | 'date';

/** What the reader and its converters read of a cell, whether an XlsxCell or a view into SheetCells. */
export interface SheetCell {
  readonly kind: CellKind;
  readonly text: string;
  /** Index into the workbook's cell styles (cellXfs). */
  readonly style: number;
}

export class XlsxCell implements SheetCell {
  constructor(
    readonly kind: CellKind,
    readonly text: string,
    /** Index into the workbook's cell styles (cellXfs). */
    readonly style: number,
  ) {}
}

export interface SheetRow {
  /** The row number in the sheet (1-based), what a person finds it by. */
  readonly line: number;
  /** Cells by 0-based column; holes are empty cells. */
  readonly cells: readonly (XlsxCell | undefined)[];
}

export const CELL_KINDS: Record<string, CellKind> = {
  n: 'number',
  s: 'string',
  str: 'string',
  inlineStr: 'string',
  b: 'boolean',
  e: 'error',
  d: 'date',
};

/** `C12` → 2 (0-based column), or -1 when the reference has no letters. */
export function columnIndex(reference: string): number {
  let column = 0;
  let i = 0;
  for (; i < reference.length; i++) {
    const code = reference.charCodeAt(i) | 0x20;
    if (code < 0x61 || code > 0x7a) break;
    column = column * 26 + (code - 0x60);
  }
  return i === 0 ? -1 : column - 1;
}

/** 2 → `C`. */
export function columnLetters(index: number): string {
  let letters = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26))
    letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  return letters;
}
