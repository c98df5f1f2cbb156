import { zipSync } from 'fflate';

export interface HandmadeSheet {
  readonly name: string;
  /** The `<sheetData>` content, written by hand: `<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c></row>`. */
  readonly rows: string;
}

export interface HandmadeWorkbook {
  readonly sheets: readonly HandmadeSheet[];
  readonly sharedStrings?: readonly string[];
  /** Number formats of the cell styles, by style index: a built-in id or a custom format code. */
  readonly styles?: readonly (number | string)[];
  readonly date1904?: boolean;
}

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A minimal XLSX workbook assembled part by part, for the cases a spreadsheet program rarely writes
 * but a reader must handle (inline strings, both date systems, boundary serials, broken parts).
 */
export function handmadeXlsx(
  book: HandmadeWorkbook,
  overrides: Record<string, string | undefined> = {},
): Buffer {
  const custom = (book.styles ?? []).filter((s): s is string => typeof s === 'string');
  const numFmtId = (s: number | string) => (typeof s === 'number' ? s : 164 + custom.indexOf(s));
  const parts: Record<string, string | undefined> = {
    '[Content_Types].xml': `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`,
    '_rels/.rels': `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    'xl/workbook.xml': `<?xml version="1.0"?><workbook xmlns="${MAIN}" xmlns:r="${REL}"><workbookPr${book.date1904 ? ' date1904="1"' : ''}/><sheets>${book.sheets
      .map((s, i) => `<sheet name="${xmlEscape(s.name)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`)
      .join('')}</sheets></workbook>`,
    'xl/_rels/workbook.xml.rels': `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${book.sheets
      .map(
        (_, i) =>
          `<Relationship Id="rId${i + 1}" Type="${REL}/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`,
      )
      .join(
        '',
      )}<Relationship Id="rS" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rT" Type="${REL}/styles" Target="/xl/styles.xml"/></Relationships>`,
    'xl/sharedStrings.xml': `<?xml version="1.0"?><sst xmlns="${MAIN}">${(book.sharedStrings ?? [])
      .map((s) => `<si><t xml:space="preserve">${xmlEscape(s)}</t></si>`)
      .join('')}</sst>`,
    'xl/styles.xml': `<?xml version="1.0"?><styleSheet xmlns="${MAIN}"><numFmts count="${custom.length}">${custom
      .map((code, i) => `<numFmt numFmtId="${164 + i}" formatCode="${xmlEscape(code)}"/>`)
      .join(
        '',
      )}</numFmts><cellXfs>${(book.styles ?? [0]).map((s) => `<xf numFmtId="${numFmtId(s)}"/>`).join('')}</cellXfs></styleSheet>`,
  };
  book.sheets.forEach((sheet, i) => {
    parts[`xl/worksheets/sheet${i + 1}.xml`] =
      `<?xml version="1.0"?><worksheet xmlns="${MAIN}"><sheetData>${sheet.rows}</sheetData></worksheet>`;
  });
  Object.assign(parts, overrides);
  const files: Record<string, Uint8Array> = {};
  for (const [name, text] of Object.entries(parts)) if (text !== undefined) files[name] = Buffer.from(text);
  return Buffer.from(zipSync(files));
}

/** `<c>` helpers for handmade rows. */
export const cell = {
  str: (ref: string, text: string) => `<c r="${ref}" t="inlineStr"><is><t>${xmlEscape(text)}</t></is></c>`,
  num: (ref: string, value: number | string, style?: number) =>
    `<c r="${ref}"${style === undefined ? '' : ` s="${style}"`}><v>${value}</v></c>`,
};
