import { SaxesParser, type SaxesTag } from 'saxes';
import {
  CELL_KINDS,
  columnIndex,
  columnLetters,
  type SheetRow,
  XlsxCell,
} from '../../src/formats/xlsx/sheet.js';
import { localName } from '../../src/formats/xlsx/workbook.js';

/**
 * The rows of a worksheet's XML as a general XML parser (saxes) reads them: the reference the byte
 * scanner (src/formats/xlsx/sheet-scanner.ts) is checked against. This was Inlet's sheet reader
 * before the scanner; it is kept here, unchanged in what it reads, so that the two can be compared.
 */
export function referenceSheetRows(
  xml: string,
  sharedStrings: readonly string[],
): { rows: SheetRow[]; badStringIndex?: string } {
  const batch: SheetRow[] = [];
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
            cells[column] = new XlsxCell(CELL_KINDS[kind] ?? 'string', value, style);
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

  const parser = new SaxesParser({ position: false, xmlns: false });
  let failure: Error | undefined;
  parser.on('error', (error) => {
    failure ??= error;
  });
  parser.on('opentag', (tag: SaxesTag) =>
    handlers.open(localName(tag.name), tag.attributes as Record<string, string>),
  );
  parser.on('closetag', (tag: SaxesTag) => handlers.close(localName(tag.name)));
  parser.on('text', handlers.text);
  parser.on('cdata', handlers.text);
  parser.write(xml).close();
  if (failure) throw failure;
  return badStringIndex === undefined ? { rows: batch } : { rows: batch, badStringIndex };
}
