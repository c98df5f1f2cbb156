/**
 * The shared strings byte scanner against saxes (the reader it replaced) on the same documents at
 * every chunk size, on hostile ones, and on the work it does: linear in the bytes whatever the
 * strings' lengths.
 */
import { describe, expect, it } from 'vitest';
import { SharedStringsScanner, SheetXmlError } from '../../../src/formats/xlsx/sheet-scanner.js';
import { seededRandom } from '../../harness/seeded-random.js';
import { referenceSharedStrings } from '../../harness/xlsx-shared-strings-reference.js';

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';

function scan(xml: string | Buffer, chunkSize: number): { strings: string[]; work: number } {
  const bytes = typeof xml === 'string' ? Buffer.from(xml) : xml;
  const scanner = new SharedStringsScanner();
  for (let at = 0; at < bytes.length; at += chunkSize) scanner.write(bytes.subarray(at, at + chunkSize));
  scanner.end();
  return { strings: scanner.table().toArray(), work: scanner.work.scanned };
}

const table = (items: string, prefix = '') =>
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<${prefix}sst xmlns${prefix ? `:${prefix.slice(0, -1)}` : ''}="${MAIN}" count="9">${items}</${prefix}sst>`;

const DOCUMENTS: Record<string, string> = {
  'plain strings, an empty one and a self-closing one': table(
    '<si><t>alpha</t></si><si><t></t></si><si/><si><t/></si><si><t>beta</t></si>',
  ),
  'rich text runs joined, run properties ignored': table(
    '<si><r><rPr><b/><sz val="11"/></rPr><t>bold</t></r><r><t xml:space="preserve"> and </t></r><r><t>plain</t></r></si>',
  ),
  'phonetic runs and properties skipped': table(
    '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si><si><r><t>a</t></r><rPh sb="0" eb="1"><t>x</t></rPh><r><t>b</t></r></si>',
  ),
  'xml:space and whitespace kept as written, CRLF read as LF': table(
    '<si><t xml:space="preserve">  two  spaces\r\nand a line\r</t></si><si><t>\ttab</t></si>',
  ),
  'entities, numeric character references and CDATA': table(
    '<si><t>&lt;tag&gt; &amp; &quot;q&quot; &apos;a&apos; &#10;&#x263A;&#128512;</t></si>' +
      '<si><t><![CDATA[raw <b>&amp;</b>]]></t></si><si><t>x<![CDATA[]]>y<![CDATA[z]]></t></si>',
  ),
  // Line ends are read before anything else, inside CDATA too: CRLF and a lone CR as LF.
  'CRLF and CR inside CDATA': table(
    '<si><t><![CDATA[one\r\ntwo\rthree\r]]>\r\nfour</t></si><si><t>a\r<![CDATA[\nb\r]]>\nc</t></si>',
  ),
  'namespace prefixes, single quotes, comments and processing instructions': table(
    "<x:si><!-- <si><t>not this</t></si> --><x:t a='>'>one</x:t><?pi <t>?></x:si><x:si><x:r><x:t>two</x:t></x:r></x:si>",
    'x:',
  ),
  'text outside <t> ignored': table(
    '<si>stray<t>kept</t>more</si><extLst><ext><t>not a string</t></ext></extLst>',
  ),
  'multi-byte text': table('<si><t>ünïcødé — 日本語 ☺ 😀</t></si>'),
};

function randomTable(count: number): string {
  const next = seededRandom(7);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T;
  const texts = [
    'plain',
    'a &amp; b',
    'ü☺😀',
    '&#x41;&#66;',
    'line\r\nbreak',
    '',
    ' spaced ',
    '<![CDATA[<&>]]>',
  ];
  let xml = '';
  for (let i = 0; i < count; i++) {
    switch (pick(['t', 'runs', 'phonetic', 'empty', 'comment'])) {
      case 't':
        xml += `<si><t>${pick(texts)}</t></si>`;
        break;
      case 'runs':
        xml += `<si><r><rPr><i/></rPr><t>${pick(texts)}</t></r><r><t xml:space="preserve">${pick(texts)}</t></r></si>`;
        break;
      case 'phonetic':
        xml += `<si><t>${pick(texts)}</t><rPh sb="0" eb="1"><t>${pick(texts)}</t></rPh></si>`;
        break;
      case 'empty':
        xml += next() < 0.5 ? '<si/>' : '<si><t/></si>';
        break;
      default:
        xml += `<!-- ${i} --><si><t>${pick(texts)}</t><?pi?></si>`;
    }
  }
  return table(xml);
}

describe('the shared strings scanner reads what saxes reads', () => {
  for (const [name, xml] of Object.entries(DOCUMENTS)) {
    it(`${name}, at every chunk size`, () => {
      const expected = referenceSharedStrings(xml);
      expect(expected.length).toBeGreaterThan(0);
      for (let size = 1; size <= Buffer.byteLength(xml); size++)
        expect(scan(xml, size).strings).toEqual(expected);
    });
  }

  it('a table of 3,000 random strings, at chunk sizes from 1 byte to all of it', () => {
    const xml = randomTable(3_000);
    const expected = referenceSharedStrings(xml);
    expect(expected.length).toBe(3_000);
    for (const size of [1, 2, 3, 5, 8, 13, 64, 333, 4096, 65_536, Buffer.byteLength(xml)]) {
      expect(scan(xml, size).strings).toEqual(expected);
    }
  });

  it('a 3 MB string arriving in 64 KB chunks (entities, CRLF and multi-byte text on every boundary)', () => {
    const piece = 'ab&amp;\r\nü☺😀&#x263A;';
    const text = piece.repeat(Math.ceil(3_000_000 / Buffer.byteLength(piece)));
    const xml = table(`<si><r><t>${text}</t></r><rPh><t>skip</t></rPh></si><si><t>after</t></si>`);
    const { strings } = scan(xml, 65_536);
    expect(strings).toEqual(referenceSharedStrings(xml));
    expect(strings[0]?.length).toBeGreaterThan(1_000_000);
  });
});

describe('the shared strings scanner refuses what is not well-formed, saying where', () => {
  const CUT = table(`${'<si><t>a</t></si>'.repeat(10)}<si><t>abcdef</t></si>`);
  const cases: Record<string, [string, RegExp]> = {
    'a DOCTYPE (entity declarations are how XML bombs work)': [
      `<!DOCTYPE sst [<!ENTITY a "aaaa">]>${table('<si><t>&a;</t></si>')}`,
      /DOCTYPE/,
    ],
    'an undefined entity': [table('<si><t>&nbsp;</t></si>'), /entity "&nbsp;"/],
    'a character reference to a surrogate': [table('<si><t>&#xD800;</t></si>'), /entity "&#xD800;"/],
    'cut inside a string': [
      CUT.slice(0, CUT.indexOf('bcdef')),
      /ends before its elements are closed \(3 still open after byte \d+\)/,
    ],
    'cut inside a tag': [
      CUT.slice(0, CUT.indexOf('</t>') + 2),
      /ends inside a tag, comment or value \(at byte \d+ of \d+\)/,
    ],
    'cut between elements': [
      CUT.slice(0, CUT.indexOf('<si>', 200)),
      /ends before its elements are closed \(1 still open/,
    ],
  };
  for (const [name, [xml, message]] of Object.entries(cases)) {
    it(name, () => {
      expect(() => referenceSharedStrings(xml)).toThrow();
      for (const size of [1, 7, Buffer.byteLength(xml)]) {
        expect(() => scan(xml, size)).toThrow(SheetXmlError);
        expect(() => scan(xml, size)).toThrow(message);
      }
    });
  }

  // Well-formed XML that saxes reads, and the schema forbids: the two readers disagreed on which text was
  // which string (a seeded corruption that removed a `<` from one `</si>` and from a later `<si>`).
  it('a string item inside another, which no reading of the table can place, at every chunk size', () => {
    const xml = table('<si><t>a</t>"/si><si><t>b</t></si><t>c</t></si><si/>');
    expect(referenceSharedStrings(xml)).toBeDefined();
    for (let size = 1; size <= Buffer.byteLength(xml); size++) {
      expect(() => scan(xml, size)).toThrow(SheetXmlError);
      expect(() => scan(xml, size)).toThrow(/a string item \(<si>\) inside another/);
    }
  });

  it('either reads what saxes reads or refuses with its own error: 400 random corruptions', () => {
    const next = seededRandom(31);
    const original = Buffer.from(randomTable(40));
    const alphabet = Buffer.from('<>/="\'&;!?[]-:st \r\n#');
    let agreed = 0;
    for (let round = 0; round < 400; round++) {
      const bytes = Buffer.from(original);
      for (let edits = 1 + Math.floor(next() * 4); edits > 0; edits--) {
        bytes[Math.floor(next() * bytes.length)] = alphabet[Math.floor(next() * alphabet.length)] as number;
      }
      const cut = next() < 0.3 ? bytes.subarray(0, Math.floor(next() * bytes.length)) : bytes;
      let ours: string[] | undefined;
      try {
        ours = scan(cut, 1 + Math.floor(next() * 512)).strings;
      } catch (error) {
        expect(error).toBeInstanceOf(SheetXmlError);
      }
      let theirs: string[] | undefined;
      try {
        theirs = referenceSharedStrings(cut.toString('utf8'));
      } catch {
        // saxes checks more than the scanner needs (names of closing tags, attribute syntax).
      }
      if (ours !== undefined && theirs !== undefined) {
        expect(ours).toEqual(theirs);
        agreed++;
      }
    }
    expect(agreed).toBeGreaterThan(20);
  });
});

describe('the shared strings scanner does work linear in the bytes', () => {
  it('one huge string costs no more work per byte than many small ones', () => {
    const bytes = 4_000_000;
    const huge = table(`<si><t>${'x&amp;ü'.repeat(bytes / 8)}</t></si>`);
    const many = table('<si><t>x&amp;ü</t></si>'.repeat(bytes / 23));
    for (const chunk of [1_024, 65_536]) {
      const one = scan(huge, chunk);
      const small = scan(many, chunk);
      expect(one.strings).toHaveLength(1);
      const perByte = (run: { work: number }, xml: string) => run.work / Buffer.byteLength(xml);
      expect(perByte(one, huge)).toBeLessThan(1.1);
      expect(perByte(one, huge) / perByte(small, many)).toBeLessThan(1.5);
    }
  });
});
