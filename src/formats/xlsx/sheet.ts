/**
 * A worksheet's rows as its XML streams past: `<row r="2"><c r="B2" t="s" s="1"><v>0</v></c>…`.
 * Cells keep their type (`t`), style (`s`) and text: shared-string indexes are resolved, inline
 * strings joined, formulas represented by their cached value (`<v>`), which Excel writes on save.
 */
import { FormatError } from '../../errors.js';
import type { ArchiveEntry, ZipArchive } from '../zip/archive.js';
import { parseXmlChunks } from './workbook.js';

export type CellKind = 'number' | 'string' | 'boolean' | 'error' | 'date';

export class XlsxCell {
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

const KINDS: Record<string, CellKind> = {
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

/** Batches of non-empty rows, one batch per inflated chunk of the sheet. */
export async function* sheetRows(
  archive: ZipArchive,
  entry: ArchiveEntry,
  sharedStrings: readonly string[],
  sheetName: string,
  source: string,
): AsyncGenerator<SheetRow[]> {
  let batch: SheetRow[] = [];
  let line = 0;
  let cells: (XlsxCell | undefined)[] = [];
  let hasValue = false;
  let column = 0;
  let kind = 'n';
  let style = 0;
  let text: string[] = [];
  let capture = false;
  let inInline = false;
  let phonetic = 0;
  let badStringIndex: string | undefined;

  const handlers = {
    open(name: string, attributes: Record<string, string>) {
      switch (name) {
        case 'row':
          line = attributes.r === undefined ? line + 1 : Number(attributes.r);
          cells = [];
          hasValue = false;
          column = 0;
          break;
        case 'c': {
          const at = attributes.r === undefined ? -1 : columnIndex(attributes.r);
          column = at < 0 ? column : at;
          kind = attributes.t ?? 'n';
          style = attributes.s === undefined ? 0 : Number(attributes.s);
          text = [];
          inInline = false;
          break;
        }
        case 'v':
          capture = true;
          break;
        case 'is':
          inInline = true;
          break;
        case 'rPh':
          phonetic++;
          break;
        case 't':
          if (inInline && phonetic === 0) capture = true;
          break;
      }
    },
    close(name: string) {
      switch (name) {
        case 'v':
        case 't':
          capture = false;
          break;
        case 'rPh':
          phonetic--;
          break;
        case 'c': {
          if (text.length > 0 || kind === 'inlineStr') {
            let value = text.join('');
            if (kind === 's') {
              const shared = sharedStrings[Number(value)];
              if (shared === undefined) badStringIndex ??= `${columnLetters(column)}${line}`;
              value = shared ?? '';
            }
            cells[column] = new XlsxCell(KINDS[kind] ?? 'string', value, style);
            if (value !== '') hasValue = true;
          }
          column++;
          break;
        }
        case 'row':
          if (hasValue) batch.push({ line, cells });
          break;
      }
    },
    text(chunk: string) {
      if (capture) text.push(chunk);
    },
  };

  // The sheet is the bulk of a workbook: it comes from the sequential pass over the file.
  for await (const _ of parseXmlChunks(archive, entry, handlers, `sheet "${sheetName}"`, source, true)) {
    if (badStringIndex !== undefined) {
      throw new FormatError(
        'corrupt_xlsx',
        `The XLSX workbook is damaged: cell ${badStringIndex} of sheet "${sheetName}" refers to a shared string the workbook does not have. Save it again from Excel.`,
        { location: { source } },
      );
    }
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
  }
}
