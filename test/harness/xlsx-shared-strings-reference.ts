import { SaxesParser, type SaxesTag } from 'saxes';
import { localName } from '../../src/formats/xlsx/workbook.js';

/**
 * The shared strings of a workbook as a general XML parser (saxes) reads them: the reference the
 * byte scanner (SharedStringsScanner in src/formats/xlsx/sheet-scanner.ts) is checked against. This
 * was Inlet's shared strings reader before the scanner, kept unchanged in what it reads.
 */
export function referenceSharedStrings(xml: string): string[] {
  const strings: string[] = [];
  let current: string[] | undefined;
  let inText = false;
  let phonetic = 0;
  const parser = new SaxesParser({ position: false, xmlns: false });
  let failure: Error | undefined;
  parser.on('error', (error) => {
    failure ??= error;
  });
  parser.on('opentag', (tag: SaxesTag) => {
    const name = localName(tag.name);
    if (name === 'si') current = [];
    else if (name === 'rPh') phonetic++;
    else if (name === 't' && current !== undefined && phonetic === 0) inText = true;
  });
  parser.on('closetag', (tag: SaxesTag) => {
    const name = localName(tag.name);
    if (name === 'si') {
      strings.push(current?.join('') ?? '');
      current = undefined;
    } else if (name === 'rPh') phonetic--;
    else if (name === 't') inText = false;
  });
  const text = (chunk: string) => {
    if (inText) current?.push(chunk);
  };
  parser.on('text', text);
  parser.on('cdata', text);
  parser.write(xml).close();
  if (failure) throw failure;
  return strings;
}
