import { describe, expect, it } from 'vitest';
import { SharedStrings } from '../../../src/formats/xlsx/shared-strings.js';
import type { SheetRow } from '../../../src/formats/xlsx/sheet.js';
import { MAX_CARRY_BYTES, SheetScanner, SheetXmlError } from '../../../src/formats/xlsx/sheet-scanner.js';
import { seededRandom } from '../../harness/seeded-random.js';
import { referenceSheetRows } from '../../harness/xlsx-sheet-reference.js';

const SHARED = ['alpha', 'beta & co', 'ünïcødé ☺', ''];
const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';

function scan(xml: string | Buffer, chunkSize: number): { rows: SheetRow[]; badStringIndex?: string } {
  const bytes = typeof xml === 'string' ? Buffer.from(xml) : xml;
  const scanner = new SheetScanner(SharedStrings.of(SHARED));
  const rows: SheetRow[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) {
    scanner.write(bytes.subarray(at, at + chunkSize));
    rows.push(...scanner.take().toRows());
  }
  scanner.end();
  rows.push(...scanner.take().toRows());
  return scanner.badStringIndex === undefined ? { rows } : { rows, badStringIndex: scanner.badStringIndex };
}

const sheet = (rows: string, prefix = '') =>
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<${prefix}worksheet xmlns${prefix ? `:${prefix.slice(0, -1)}` : ''}="${MAIN}"><${prefix}sheetData>${rows}</${prefix}sheetData></${prefix}worksheet>`;

/** Documents that use what XML lets a workbook writer put in a sheet. */
const DOCUMENTS: Record<string, string> = {
  'shared strings, numbers, styles and formulas': sheet(
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s" s="2"><v>1</v></c><c r="C1"><v>12.5</v></c></row>' +
      '<row r="3" spans="1:3"><c r="A3" s="1"><v>45322.5</v></c><c r="C3"><f>SUM(C1:C2)</f><v>25</v></c></row>',
  ),
  'cells and rows without references, self-closing cells and empty values': sheet(
    '<row><c t="s"><v>2</v></c><c/><c><v/></c><c><v>7</v></c></row><row><c t="b"><v>1</v></c><c t="e"><v>#N/A</v></c></row><row/>',
  ),
  'inline strings with rich-text runs, phonetic runs and CRLF': sheet(
    '<row r="2"><c r="A2" t="inlineStr"><is><r><rPr><b/></rPr><t>bold</t></r><r><t xml:space="preserve"> and\r\nplain</t></r><rPh sb="0" eb="1"><t>ruby</t></rPh></is></c>' +
      '<c r="B2" t="inlineStr"><is><t></t></is></c><c r="C2" t="inlineStr"/><c r="D2" t="str"><f>A2</f><v>formula text</v></c></row>',
  ),
  'entities, character references and CDATA': sheet(
    '<row r="1"><c r="A1" t="inlineStr"><is><t>&lt;tag&gt; &amp; &quot;q&quot; &apos;a&apos; &#10;&#x263A;&#128512;</t></is></c>' +
      '<c r="B1" t="str"><v><![CDATA[raw <b>&amp;</b>]]></v></c><c r="C1" t="str"><v>x<![CDATA[]]>y</v></c></row>',
  ),
  // Line ends are read before anything else, inside CDATA too: CRLF and a lone CR as LF.
  'CRLF and CR inside CDATA': sheet(
    '<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[one\r\ntwo\rthree\r]]>\r\nfour</t></is></c>' +
      '<c r="B1" t="str"><v>a\r<![CDATA[\nb\r]]>\nc</v></c></row>',
  ),
  'namespace prefixes, single quotes, > inside attributes, comments and processing instructions': sheet(
    "<x:row r='4'><!-- a comment with <c> and > inside --><x:c r='B4' t='s' x:note='a>b'><x:v>1</x:v></x:c><?pi data?>" +
      '<x:c r="C4"   t = "n" ><x:v>-3.25E-2</x:v></x:c></x:row>',
    'x:',
  ),
  'runs of cells in the common shape, with what makes one leave it': sheet(
    '<row r="2"><c r="A2"><v>1</v></c><c r="B2" s="3"><v>2.5</v></c><c t="s" r="C2"><v>1</v></c><c r="D2"\ts="1"><v>3</v></c>' +
      '<c r="E2" t="str"><v>x</v></c><c r="F2" s = "2"><v>4</v></c><c r="G2" x:y="1" cm="1"><v>5</v></c><c r="H2" t="b"><v>1</v></c>' +
      '<c r="I2"/><c r="J2" s=""><v>6</v></c><c r="K2" s="1234567890"><v>7</v></c><c r="&#76;2"><v>8</v></c><c r="M2" t="e"><v>#N/A</v></c>' +
      '<c r="N2" t="d"><v>2024-01-31</v></c><c r="O2"><v>a&amp;b</v></c><c r="P2"><v></v></c><c r="Q2"><v>9</v></c><c r="r2" t="n"><v>10</v></c>' +
      '<c s="2"><v>11</v></c><c r="1"><v>12</v></c><c r="B2" t="s"><v>2</v></c></row><row r="3"><c r="A3"><v>13</v></c></row>',
  ),
  'rows one after another in the common shape, with what makes one leave it': sheet(
    '<row r="1" spans="1:2" x14ac:dyDescent="0.25"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>' +
      '<row><c r="A3"><v>3</v></c></row><row r=\'4\'><c r="A4"><v>4</v></c></row><row r="5" ht="a&amp;b"><c><v>5</v></c></row>' +
      '<row  r="6"\tspans="1:1"><c><v>6</v></c></row><row r="0x7"><c><v>7</v></c></row><row r=""><c><v>8</v></c></row>' +
      '<row r="12"/><row r="13"></row><row r="14"><c r="A14"><v>14</v></c></row><!-- between --><row r="15"><c><v>15</v></c></row>' +
      '<row r="9"><c r="B9" t="s"><v>1</v></c></row><row r="1234567890"><c><v>16</v></c></row><row r="17"><c r="C17"><v>17</v></c></row>' +
      '<row r="19" ht="20"><c><v>19</v></c></row><row r="21"><c><v>21</v></c></row>',
  ),
  'cell attributes near the shape read without the general loop (r, s, t one space apart)': sheet(
    '<row r="2"><c r="B2" t="s" s="1"><v>0</v></c><c r="c2" s="2"><v>1</v></c><c r="D2" t="n" s="1"><v>2</v></c>' +
      '<c r="E2" t="x"><v>3</v></c><c r="AB"><v>4</v></c><c r="G2x" s="3"><v>5</v></c><c r="H2" s="12345678901"><v>6</v></c>' +
      '<c r="I2"  s="1"><v>7</v></c><c r="J2" s="1" t="s" ><v>1</v></c><c r="K2" t="str"><v>8</v></c><c r="L2" t="s" cm="1"><v>2</v></c>' +
      '<c r="M2" s="0001"><v>9</v></c><c r="N2" s="1"/><c r="O2" s="2" t="b"><v>1</v></c><c r="" s="1"><v>10</v></c>' +
      '<c r="Q2" t=""><v>11</v></c><c r="R2" s="4x"><v>12</v></c><c r="ZZZ2" t="e"><v>#REF!</v></c></row>',
  ),
  'a shared-string index the workbook does not have': sheet(
    '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="9"><c r="AB9" t="s"><v>99</v></c></row>',
  ),
  'columns far to the right and multi-byte text': sheet(
    '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>ünïcødé — 日本語 ☺ 😀</t></is></c><c r="zz1"><v>1</v></c></row>',
  ),
};

/** A larger sheet of random cells of every kind, so that every construct lands on chunk boundaries. */
function randomSheet(rows: number): string {
  const next = seededRandom(11);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T;
  const texts = ['plain', 'a &amp; b', 'ü☺😀', '&#x41;&#66;', 'line\r\nbreak', '', ' spaced '];
  let xml = '';
  for (let r = 1; r <= rows; r++) {
    xml += next() < 0.1 ? '<row>' : `<row r="${r}" spans="1:6">`;
    for (let c = 0; c < 6; c++) {
      if (next() < 0.15) continue;
      const ref = next() < 0.8 ? ` r="${String.fromCharCode(65 + c)}${r}"` : '';
      const style = next() < 0.3 ? ` s="${Math.floor(next() * 4)}"` : '';
      switch (pick(['n', 's', 'inline', 'str', 'b', 'empty', 'comment'])) {
        case 'n':
          xml += `<c${ref}${style}><v>${(next() * 1e6).toFixed(3)}</v></c>`;
          break;
        case 's':
          xml += `<c${ref}${style} t="s"><v>${Math.floor(next() * SHARED.length)}</v></c>`;
          break;
        case 'inline':
          xml += `<c${ref} t="inlineStr"><is><r><t>${pick(texts)}</t></r><r><t>${pick(texts)}</t></r></is></c>`;
          break;
        case 'str':
          xml += `<c${ref} t="str"><f>A1&amp;"x"</f><v>${pick(texts)}</v></c>`;
          break;
        case 'b':
          xml += `<c${ref} t='b'><v>${next() < 0.5 ? 1 : 0}</v></c>`;
          break;
        case 'empty':
          xml += `<c${ref}${style}/>`;
          break;
        default:
          xml += `<!-- c ${r} --><c${ref}><v><![CDATA[${pick(['cdata', '<&>', ''])}]]></v></c>`;
      }
    }
    xml += '</row>';
  }
  return sheet(xml);
}

describe('the sheet scanner reads what saxes reads', () => {
  for (const [name, xml] of Object.entries(DOCUMENTS)) {
    it(`${name}, at every chunk size`, () => {
      const expected = referenceSheetRows(xml, SHARED);
      expect(expected.rows.length).toBeGreaterThan(0);
      const length = Buffer.byteLength(xml);
      for (let size = 1; size <= length; size++) expect(scan(xml, size)).toEqual(expected);
    });
  }

  it('a sheet of 2,000 random rows, at chunk sizes from 1 byte to all of it', () => {
    const xml = randomSheet(2_000);
    const expected = referenceSheetRows(xml, SHARED);
    expect(expected.rows.length).toBeGreaterThan(1_500);
    for (const size of [1, 2, 3, 5, 8, 13, 64, 333, 4096, 65_536, Buffer.byteLength(xml)]) {
      expect(scan(xml, size)).toEqual(expected);
    }
  });
});

describe('the sheet scanner refuses what is not a well-formed sheet', () => {
  const cases: Record<string, [string, RegExp]> = {
    'a DOCTYPE (entity declarations are how XML bombs work)': [
      `<!DOCTYPE worksheet [<!ENTITY a "aaaa">]>${sheet('<row><c t="inlineStr"><is><t>&a;</t></is></c></row>')}`,
      /DOCTYPE/,
    ],
    'an undefined entity': [
      sheet('<row><c t="inlineStr"><is><t>&nbsp;</t></is></c></row>'),
      /entity "&nbsp;"/,
    ],
    'a character reference to nothing': [sheet('<row><c><v>&#0;</v></c></row>'), /entity "&#0;"/],
    'an unterminated reference': [sheet('<row><c><v>a &amp b</v></c></row>'), /entity/],
    'a document cut short': [sheet('<row><c><v>1</v></c></row>').slice(0, -30), /ends/],
    'a close without an open': [`${sheet('')}</extra>`, /never opened/],
    'text outside the root element': [`${sheet('')}stray`, /outside its root/],
    'an attribute without quotes': [sheet('<row r=1><c><v>1</v></c></row>'), /without quotes/],
    'nothing at all': ['  \n', /no root element/],
  };
  for (const [name, [xml, message]] of Object.entries(cases)) {
    it(name, () => {
      expect(() => referenceSheetRows(xml, SHARED)).toThrow();
      for (const size of [1, 7, Buffer.byteLength(xml)]) {
        expect(() => scan(xml, size)).toThrow(SheetXmlError);
        expect(() => scan(xml, size)).toThrow(message);
      }
    });
  }
});

describe('the sheet scanner on damaged bytes', () => {
  it('either reads what saxes reads or refuses with its own error: 1,000 random corruptions, never a crash or a hang', () => {
    const next = seededRandom(23);
    const original = Buffer.from(randomSheet(40));
    const alphabet = Buffer.from('<>/="\'&;!?[]-:xc \r\n#');
    let agreed = 0;
    for (let round = 0; round < 1_000; round++) {
      const bytes = Buffer.from(original);
      for (let edits = 1 + Math.floor(next() * 4); edits > 0; edits--) {
        const at = Math.floor(next() * bytes.length);
        bytes[at] =
          next() < 0.7
            ? (alphabet[Math.floor(next() * alphabet.length)] as number)
            : Math.floor(next() * 256);
      }
      const cut = next() < 0.3 ? bytes.subarray(0, Math.floor(next() * bytes.length)) : bytes;
      let ours: ReturnType<typeof scan> | undefined;
      try {
        ours = scan(cut, 1 + Math.floor(next() * 512));
      } catch (error) {
        expect(error).toBeInstanceOf(SheetXmlError);
      }
      let theirs: ReturnType<typeof referenceSheetRows> | undefined;
      try {
        theirs = referenceSheetRows(cut.toString('utf8'), SHARED);
      } catch {
        // saxes checks more than the scanner needs (names of closing tags, attribute syntax).
      }
      if (ours !== undefined && theirs !== undefined) {
        expect(ours).toEqual(theirs);
        agreed++;
      }
    }
    expect(agreed).toBeGreaterThan(40);
  });
});

describe('the sheet scanner on very long values and tags', () => {
  it('reads a 3 MB value arriving in 64 KB chunks as it comes (entities, CRLF and multi-byte text on every boundary)', () => {
    const piece = 'ab&amp;\r\nü☺😀';
    const text = piece.repeat(Math.ceil(3_000_000 / Buffer.byteLength(piece)));
    const xml = sheet(`<row r="1"><c r="A1" t="inlineStr"><is><t>${text}</t></is></c></row>`);
    const { rows } = scan(xml, 65_536);
    expect(rows[0]?.cells[0]?.text).toBe(text.replace(/&amp;/g, '&').replace(/\r\n/g, '\n'));
  });

  it('one huge plain value costs no more work per byte than many small cells (the one-pass readers included)', () => {
    const bytes = 4_000_000;
    const work = (xml: string, chunk: number) => {
      const scanner = new SheetScanner(SharedStrings.of(SHARED));
      const data = Buffer.from(xml);
      let cells = 0;
      for (let at = 0; at < data.length; at += chunk) {
        scanner.write(data.subarray(at, at + chunk));
        cells += scanner.take().count;
      }
      scanner.end();
      return { perByte: scanner.work.scanned / data.length, cells: cells + scanner.take().count };
    };
    const huge = sheet(`<row r="1"><c r="A1"><v>${'7'.repeat(bytes)}</v></c></row>`);
    const many = sheet(
      Array.from(
        { length: bytes / 200 },
        (_, r) => `<row r="${r + 1}">${'<c r="A1" s="1"><v>12.5</v></c>'.repeat(5)}</row>`,
      ).join(''),
    );
    for (const chunk of [1_024, 65_536]) {
      const one = work(huge, chunk);
      const small = work(many, chunk);
      expect(one.cells).toBe(1);
      expect(small.cells).toBe(bytes / 40);
      expect(one.perByte).toBeLessThan(1.1);
      expect(one.perByte / small.perByte).toBeLessThan(1.5);
    }
  });

  it('refuses a tag longer than it will hold', () => {
    const xml = sheet(`<row r="1"><c r="A1" x="${'y'.repeat(MAX_CARRY_BYTES + 200_000)}"><v>1</v></c></row>`);
    expect(() => scan(xml, 65_536)).toThrow(/longer than/);
  });
});
