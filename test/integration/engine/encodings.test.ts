/**
 * Files in the encodings and dialects clients' exports come in (issue 17), each loaded on a real
 * PostgreSQL into the same rows: UTF-8 with and without a byte order mark, UTF-16LE/BE (Excel's
 * "Unicode text"), Windows-1252 and ISO-8859-1, each with `,` `;` tab and `|` between fields.
 */
import { describe, expect, it } from 'vitest';
import type { Pipeline } from '../../../src/model/contract.js';
import { engineHarness } from '../../harness/engine.js';
import { memorySource } from '../../harness/sources.js';

const h = engineHarness('enc');

const COLUMNS = [
  { name: 'id', type: 'integer', nullable: false },
  { name: 'customer', type: 'text', source: 'Customer Name' },
  { name: 'city', type: 'text' },
];

/** Characters every one of the encodings holds (Latin-1's upper half), and a field with a delimiter in quotes. */
const ROWS = [
  ['1', 'Müller Café', 'Zürich'],
  ['2', 'José; "Pepe", Núñez|Ñ', 'São Paulo'],
  ['3', 'Ørsted', ''],
];
const EXPECTED = ROWS.map(([id, customer, city]) => ({ id: Number(id), customer, city }));

function csvText(delimiter: string, rows = ROWS): string {
  const field = (value: string) => (/[",;|\t\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const lines = [['id', 'Customer Name', 'city'], ...rows].map((row) => row.map(field).join(delimiter));
  return `${lines.join('\r\n')}\r\n`;
}

const ENCODINGS = {
  utf8: (text: string) => Buffer.from(text, 'utf8'),
  'utf8 with BOM': (text: string) =>
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]),
  'utf16le with BOM': (text: string) => Buffer.from(`\ufeff${text}`, 'utf16le'),
  'utf16be with BOM': (text: string) => Buffer.from(`\ufeff${text}`, 'utf16le').swap16(),
  // Latin-1's upper half is the same bytes in Windows-1252; what tells them apart is below.
  'windows-1252 / iso-8859-1': (text: string) => Buffer.from(text, 'latin1'),
} as const;
const DETECTED: Record<keyof typeof ENCODINGS, string> = {
  utf8: 'utf8',
  'utf8 with BOM': 'utf8',
  'utf16le with BOM': 'utf16le',
  'utf16be with BOM': 'utf16be',
  'windows-1252 / iso-8859-1': 'windows1252',
};

function freshPipeline(csv: Partial<Pipeline['csv']> = {}): Promise<Pipeline> {
  return h.freshPipeline({ columns: COLUMNS, csv });
}

async function load(pipeline: Pipeline, name: string, bytes: Buffer, chunkSize?: number) {
  const result = await h.run(
    memorySource(name, bytes, chunkSize === undefined ? {} : { chunkSize }),
    pipeline,
  );
  const rows = await h.rows(pipeline, 'id');
  const details = (await h.ledger(result.ingestionId))?.details as Record<string, unknown> | undefined;
  return { result, rows, details };
}

describe('csv.encoding: auto and csv.delimiter: auto (the defaults)', () => {
  describe.each(Object.keys(ENCODINGS) as (keyof typeof ENCODINGS)[])('%s', (encoding) => {
    it.each([',', ';', '\t', '|'])('loads the same rows with %j between fields', async (delimiter) => {
      const pipeline = await freshPipeline();
      const bytes = ENCODINGS[encoding](csvText(delimiter));
      // Small chunks: marks, characters and the header cut anywhere by the stream.
      const { result, rows, details } = await load(pipeline, 'export.csv', bytes, 7);
      expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 3, rowsRejected: 0 });
      expect(rows).toEqual(EXPECTED);
      expect(details).toMatchObject({ encoding: DETECTED[encoding], delimiter });
    });
  });

  it('reads € and the quotes of Windows-1252, which ISO-8859-1 lacks', async () => {
    const pipeline = await freshPipeline();
    const bytes = Buffer.concat([
      Buffer.from('id;Customer Name;city\r\n1;', 'latin1'),
      Buffer.from([0x80, 0x20, 0x93, 0x71, 0x94]), // € “q”
      Buffer.from(';Köln\r\n', 'latin1'),
    ]);
    const { rows, details } = await load(pipeline, 'eu.csv', bytes);
    expect(rows).toEqual([{ id: 1, customer: '€ “q”', city: 'Köln' }]);
    expect(details).toMatchObject({ encoding: 'windows1252', delimiter: ';' });
  });

  it('records an ASCII-only file as UTF-8: bytes valid in both are not taken for Windows-1252', async () => {
    const pipeline = await freshPipeline();
    const { rows, details } = await load(
      pipeline,
      'ascii.csv',
      Buffer.from('id,Customer Name,city\n7,Ada,Rome\n'),
    );
    expect(rows).toEqual([{ id: 7, customer: 'Ada', city: 'Rome' }]);
    expect(details).toMatchObject({ encoding: 'utf8', delimiter: ',' });
  });

  it('takes a UTF-16 "Unicode text" export named .txt for the tab-separated text it is', async () => {
    const pipeline = await freshPipeline();
    const { result, rows, details } = await load(
      pipeline,
      'Unicode text export.txt',
      ENCODINGS['utf16le with BOM'](csvText('\t')),
    );
    expect(result.status).toBe('loaded');
    expect(rows).toEqual(EXPECTED);
    expect(details).toMatchObject({ format: 'csv', encoding: 'utf16le', delimiter: '\t' });
  });

  it('rejects only the row with a stray byte in a UTF-8 file, saying which encodings to name', async () => {
    const pipeline = await freshPipeline({});
    const bytes = Buffer.concat([
      Buffer.from('id,Customer Name,city\n1,José,Porto\n2,', 'utf8'),
      Buffer.from([0xe9]),
      Buffer.from(',Lyon\n3,Zoë,Oslo\n', 'utf8'),
    ]);
    const { result, rows } = await load({ ...pipeline, rejects: { maxRatio: 1 } }, 'mixed.csv', bytes);
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 2, rowsRejected: 1 });
    expect(rows.map((row) => row.id)).toEqual([1, 3]);
    expect(result.rejects[0]).toMatchObject({ line: 3, column: 'customer' });
    expect(result.rejects[0]?.reason).toContain('set csv.encoding: windows1252 or latin1');
  });

  it('refuses a file that claims UTF-16 by its mark and is not, naming the error', async () => {
    const pipeline = await freshPipeline();
    const bytes = Buffer.concat([ENCODINGS['utf16le with BOM'](csvText(',')), Buffer.from([0x41])]);
    const { result, rows } = await load(pipeline, 'odd.csv', bytes);
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'invalid_utf16' } });
    expect(rows).toEqual([]);
  });
});

describe('explicit settings win over detection', () => {
  it('reads ISO-8859-1 as declared: 0x80 is a control character there, not €', async () => {
    const pipeline = await freshPipeline({ encoding: 'latin1' });
    const bytes = Buffer.from('id,Customer Name,city\n1,\u0080x,Köln\n', 'latin1');
    const { rows, details } = await load(pipeline, 'l1.csv', bytes);
    expect(rows).toEqual([{ id: 1, customer: '\u0080x', city: 'Köln' }]);
    expect(details).toMatchObject({ encoding: 'latin1' });
  });

  it('reads UTF-8 bytes as Windows-1252 when the pipeline says so', async () => {
    const pipeline = await freshPipeline({ encoding: 'windows1252' });
    const { rows } = await load(pipeline, 'w.csv', Buffer.from('id,Customer Name,city\n1,é,x\n', 'utf8'));
    expect(rows).toEqual([{ id: 1, customer: 'Ã©', city: 'x' }]);
  });

  it('splits on the declared delimiter even where another reads the header better', async () => {
    const pipeline = await freshPipeline({ delimiter: ',', ...{} });
    const { result } = await load(pipeline, 'semi.csv', Buffer.from(csvText(';')));
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'schema_drift' } });
  });
});
