import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/load.js';
import { planColumns } from '../../../../src/engine/encode/columns.js';
import { RowWriter } from '../../../../src/engine/encode/encoder.js';
import { encodeTable } from '../../../../src/engine/encode/table.js';
import { RejectCollector } from '../../../../src/engine/rejects.js';
import type { TableReader } from '../../../../src/formats/table.js';
import { objectBatch, openXlsx, SheetBatch } from '../../../../src/formats/xlsx/reader.js';
import {
  decimalValue,
  serialMoment,
  serialMomentOfDigits,
} from '../../../../src/formats/xlsx/typed-cells.js';
import type { Pipeline } from '../../../../src/model/contract.js';
import type { RejectRecord } from '../../../../src/model/ingestion.js';
import { seededRandom } from '../../../harness/seeded-random.js';
import { memoryRandomAccess } from '../../../harness/sources.js';
import { handmadeXlsx } from '../../../harness/xlsx.js';

/**
 * The XLSX reader hands most cells to the engine as bytes in place (SheetCells, ByteSpan) rather than
 * as an XlsxCell and a string each. These tests load seeded random cells of every kind into every
 * column type both ways, the objects-and-strings path being the reference, and want the same COPY
 * bytes and the same rejects (row, column, value, reason).
 */

const SHARED = [
  'Ada Lovelace',
  '',
  'ünïcødé ☺ 😀',
  'nul \u0000 inside',
  '42',
  '-7.5',
  '2024-01-31',
  '2024-01-31T13:45:00',
  'true',
  'a\\b\ttab',
  ' spaced ',
  'x'.repeat(300),
  'R&D <b> "quoted" & more',
];
/** Style 0 General, then a date, a date and time, a time, a custom date-time, a percentage. */
const STYLES = [0, 14, 22, 21, 'yyyy-mm-dd hh:mm:ss.000', 10];

function numberText(next: () => number): string {
  const magnitude = 10 ** Math.floor(next() * 30 - 10);
  const value = (next() - 0.5) * 2 * magnitude;
  switch (Math.floor(next() * 12)) {
    case 0:
      return String(Math.round(value));
    case 1:
      return value.toFixed(Math.floor(next() * 6));
    case 2:
      return value.toExponential(Math.floor(next() * 10)).toUpperCase();
    case 3:
      // Around the edges of smallint, integer and the safe integers.
      return String(
        [32_767, 32_768, -32_768, -32_769, 2_147_483_647, 2_147_483_648, 2 ** 53, 2 ** 53 + 2, 9.2e18, 1e19][
          Math.floor(next() * 10)
        ],
      );
    case 4:
      return [
        '0',
        '-0',
        '00012',
        '1.50',
        '0.10',
        '1e3',
        '0.0000001',
        '0.000001',
        '12345678901234567',
        ' 7',
        '',
        '.5',
      ][Math.floor(next() * 12)] as string;
    case 5:
      // Serials: dates in both systems, around the 1900 leap-year bug, times of day alone, past 9999.
      return String(
        [0, 0.25, 59, 59.5, 60, 60.75, 61, 1, 2958465.99999, 2958466, 3e6, -1][Math.floor(next() * 12)],
      );
    case 6:
    case 7:
      return String(25_569 + next() * 40_000);
    case 8:
      return String(Math.floor(25_569 + next() * 40_000) + Math.round(next() * 86_400) / 86_400);
    default:
      return String(value);
  }
}

function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function randomCell(next: () => number, ref: string): string {
  const style = next() < 0.5 ? ` s="${Math.floor(next() * STYLES.length)}"` : '';
  switch (Math.floor(next() * 11)) {
    case 0:
    case 1:
    case 2:
      return `<c r="${ref}"${style}><v>${numberText(next)}</v></c>`;
    case 3:
      return `<c r="${ref}"${style} t="s"><v>${Math.floor(next() * SHARED.length)}</v></c>`;
    case 4:
      return `<c r="${ref}" t="b"><v>${['1', '0', 'true', 'FALSE', '2', ''][Math.floor(next() * 6)]}</v></c>`;
    case 5:
      // Inline strings, now and then as rich-text runs (joined) with a phonetic run (left out).
      return next() < 0.7
        ? `<c r="${ref}" t="inlineStr"><is><t>${xmlText(SHARED[Math.floor(next() * SHARED.length)] as string)}</t></is></c>`
        : `<c r="${ref}" t="inlineStr"><is><r><rPr><b/></rPr><t>4</t></r><r><t>${xmlText(SHARED[Math.floor(next() * SHARED.length)] as string)}</t></r><rPh sb="0" eb="1"><t>x</t></rPh></is></c>`;
    case 6:
      return `<c r="${ref}" t="str"><f>A1</f><v>${['12.5', 'text &amp; more', '2024-02-29', '', 'ü'][Math.floor(next() * 5)]}</v></c>`;
    case 7:
      return `<c r="${ref}" t="e"><v>${['#N/A', '#DIV/0!'][Math.floor(next() * 2)]}</v></c>`;
    case 8:
      return `<c r="${ref}" t="d"><v>${['2024-01-31T10:00:00', '2024-01-31', 'not a date'][Math.floor(next() * 3)]}</v></c>`;
    case 9:
      return next() < 0.5 ? `<c r="${ref}"${style}/>` : '';
    default:
      return `<c r="${ref}"${style}><v>${String(Math.floor(next() * 200) - 100)}</v></c>`;
  }
}

function randomWorkbook(seed: number, rows: number, date1904: boolean): Buffer {
  const next = seededRandom(seed);
  let xml = '<row r="1"><c r="A1" t="inlineStr"><is><t>v</t></is></c></row>';
  for (let r = 2; r <= rows + 1; r++) {
    // Now and then a value right of the header (which rejects the row), empty or not; cells out of order; a column twice.
    const extra =
      next() < 0.03 ? `<c r="${next() < 0.5 ? 'B' : 'C'}${r}"><v>${next() < 0.5 ? 1 : ''}</v></c>` : '';
    const shape = next();
    xml +=
      shape < 0.03
        ? `<row r="${r}">${extra}${randomCell(next, `A${r}`)}</row>`
        : shape < 0.06
          ? `<row r="${r}">${randomCell(next, `A${r}`)}${randomCell(next, `A${r}`)}${extra}</row>`
          : `<row r="${r}">${randomCell(next, `A${r}`)}${extra}</row>`;
  }
  return handmadeXlsx({
    sheets: [{ name: 'S', rows: xml }],
    sharedStrings: SHARED,
    styles: STYLES,
    date1904,
  });
}

/** The reader as it was: rows of XlsxCell objects, each cell's text a string. */
function objectsReader(reader: TableReader): TableReader {
  return {
    ...reader,
    async *batches(used) {
      for await (const batch of reader.batches(used)) {
        const sheet = batch as SheetBatch;
        expect(sheet).toBeInstanceOf(SheetBatch);
        yield objectBatch(sheet.cells.toRows().slice(sheet.first), reader.fields.length);
      }
    },
  };
}

async function load(
  bytes: Buffer,
  pipeline: Pipeline,
  copyFormat: 'auto' | 'text',
  objects: boolean,
): Promise<{ copy: Buffer; rejects: RejectRecord[]; format: string; decodes: number }> {
  const reader = await openXlsx(memoryRandomAccess(bytes, 997), {
    source: 'x',
    maxDecompressedBytes: 1e9,
    maxCompressionRatio: 1e6,
  });
  const plan = planColumns(pipeline, copyFormat);
  const rejects = new RejectCollector();
  const writer = new RowWriter(plan, rejects, true);
  const pieces: Buffer[] = [];
  for await (const piece of encodeTable(objects ? objectsReader(reader) : reader, pipeline, writer, 'x'))
    pieces.push(Buffer.from(piece));
  return {
    copy: Buffer.concat(pieces),
    rejects: rejects.takePending(),
    format: plan.format,
    decodes: reader.workbook.sharedStrings.decodes,
  };
}

const TYPES = [
  'smallint',
  'integer',
  'bigint',
  'numeric',
  'numeric(12,2)',
  'double precision',
  'real',
  'boolean',
  'date',
  'timestamp',
  'timestamptz',
  'text',
  'varchar(8)',
];

function pipelineOf(type: string, timezone?: string): Pipeline {
  return parseConfig(
    JSON.stringify({
      pipelines: [
        {
          name: 'p',
          format: 'xlsx',
          table: 'public.t',
          ...(timezone === undefined ? {} : { timezone }),
          columns: [{ name: 'v', type }],
        },
      ],
    }),
    'test',
  ).pipelines[0] as Pipeline;
}

describe('XLSX cells as bytes in place against the objects-and-strings reference', () => {
  for (const type of TYPES) {
    it(`${type}: the same COPY bytes and rejects, in binary and text COPY, 1900 and 1904 dates`, async () => {
      for (const [seed, date1904] of [
        [7, false],
        [8, true],
      ] as const) {
        const bytes = randomWorkbook(seed * 31 + TYPES.indexOf(type), 1_500, date1904);
        for (const [copyFormat, timezone] of [
          ['auto', undefined],
          ['text', undefined],
          ['auto', 'America/New_York'],
        ] as const) {
          const pipeline = pipelineOf(type, timezone);
          const fast = await load(bytes, pipeline, copyFormat, false);
          const reference = await load(bytes, pipeline, copyFormat, true);
          expect(fast.rejects).toEqual(reference.rejects);
          expect(fast.copy.equals(reference.copy)).toBe(true);
          // The cells exercise both outcomes.
          expect(reference.rejects.length).toBeGreaterThan(10);
          expect(reference.rejects.length).toBeLessThan(1_400);
        }
      }
    });
  }
});

describe('shared strings decoded only when asked for', () => {
  it('loads distinct shared strings into a text column from their UTF-8 without decoding one', async () => {
    const strings = Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? `naïve ${i} ☺` : `plain ${i}`));
    let xml = '<row r="1"><c r="A1" t="inlineStr"><is><t>v</t></is></c></row>';
    for (let r = 2; r <= strings.length + 1; r++)
      xml += `<row r="${r}"><c r="A${r}" t="s"><v>${r - 2}</v></c></row>`;
    const bytes = handmadeXlsx({ sheets: [{ name: 'S', rows: xml }], sharedStrings: strings });
    for (const copyFormat of ['auto', 'text'] as const) {
      const fast = await load(bytes, pipelineOf('text'), copyFormat, false);
      expect(fast.decodes).toBe(0);
      // The text path asks for every string, once each.
      const reference = await load(bytes, pipelineOf('text'), copyFormat, true);
      expect(reference.decodes).toBe(strings.length);
      expect(fast.copy.equals(reference.copy)).toBe(true);
    }
  });
});

describe('decimalValue', () => {
  it('reads plain decimals from bytes exactly as Number() reads their text, and declines the rest', () => {
    const next = seededRandom(3);
    const cases = [
      '0',
      '.5',
      '5.',
      '.',
      '1.2.3',
      '-1',
      '1e5',
      '9007199254740991',
      '9007199254740993',
      '45386.000034756944',
    ];
    for (let i = 0; i < 20_000; i++) {
      const digits = Array.from({ length: 1 + Math.floor(next() * 18) }, () => Math.floor(next() * 10)).join(
        '',
      );
      const point = Math.floor(next() * (digits.length + 1));
      cases.push(next() < 0.8 ? `${digits.slice(0, point)}.${digits.slice(point)}` : digits);
      cases.push(String(25_569 + next() * 40_000));
    }
    let exact = 0;
    for (const text of cases) {
      const value = decimalValue(Buffer.from(text), 0, text.length);
      if (Number.isNaN(value)) continue;
      exact++;
      expect(value, text).toBe(Number(text));
    }
    expect(exact).toBeGreaterThan(cases.length / 2);
  });
});

describe('serialMomentOfDigits', () => {
  it('reads a serial with a long fraction as serialMoment reads the Number() of its text, or declines', () => {
    const next = seededRandom(5);
    const DAY_MS = 86_400_000;
    const cases = [
      '45386.000034756944',
      '45386.5',
      '60.99999999999',
      '61.0000000000001',
      '0.5',
      '1.',
      '.5',
      '-45386.5',
      '4.5e4',
      '2958465.9999999999',
      '2958466.0000001',
      '1462.0000057870371',
    ];
    for (let i = 0; i < 40_000; i++) {
      const whole = Math.floor(next() * [100, 70_000, 3_000_000][Math.floor(next() * 3)]!);
      const kind = Math.floor(next() * 4);
      if (kind === 0) {
        // Around a half millisecond and around the next day: the edges the margin is for.
        const ms = Math.floor(next() * DAY_MS) + (next() < 0.5 ? 0.5 : 1 - 1e-9);
        cases.push(`${whole}.${(ms / DAY_MS).toFixed(6 + Math.floor(next() * 8)).slice(2)}`);
      } else if (kind === 1) {
        cases.push(String(whole + Math.floor(next() * DAY_MS) / DAY_MS));
      } else {
        const digits = Array.from({ length: 1 + Math.floor(next() * 14) }, () => Math.floor(next() * 10));
        cases.push(`${whole}.${digits.join('')}`);
      }
    }
    let read = 0;
    for (const text of cases) {
      for (const system of [1900, 1904] as const) {
        const digits = { days: -1, ms: -1 };
        const fromDigits = serialMomentOfDigits(Buffer.from(text), 0, text.length, system, digits);
        if (fromDigits === undefined) continue;
        read++;
        const reference = { days: -1, ms: -1 };
        expect(fromDigits, text).toBe(serialMoment(Number(text), system, reference));
        if (fromDigits) expect(digits, text).toEqual(reference);
      }
    }
    // Most are read (a date's serial to the millisecond has at most 13 fraction digits); those within
    // a hair of an edge, and longer fractions, are declined.
    expect(read).toBeGreaterThan(cases.length * 2 * 0.6);
    expect(serialMomentOfDigits(Buffer.from('45386.000034756944'), 0, 18, 1900, { days: 0, ms: 0 })).toBe(
      true,
    );
  });
});
