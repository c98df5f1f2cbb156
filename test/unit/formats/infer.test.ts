import { brotliCompressSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { toIdentifier, uniqueIdentifiers } from '../../../src/infer/identifiers.js';
import { type InferredColumn, inferColumns, keyCandidate } from '../../../src/infer/infer.js';
import { proposePipeline } from '../../../src/infer/propose.js';
import { sampleSource } from '../../../src/infer/sample.js';
import { flat, parquetFile } from '../../harness/parquet.js';
import { memorySource } from '../../harness/sources.js';

async function columnsOf(
  name: string,
  content: string | Buffer,
  rows = 1000,
): Promise<Record<string, InferredColumn>> {
  const sample = await sampleSource(memorySource(name, content), { rows });
  return Object.fromEntries(inferColumns(sample).map((c) => [c.source, c]));
}

const csv = (header: string, ...rows: string[]) => `${header}\n${rows.join('\n')}\n`;

describe('identifiers', () => {
  it('normalises names to safe, unique snake_case identifiers', () => {
    expect(toIdentifier('Customer Name', 'x')).toBe('customer_name');
    expect(toIdentifier('orderID', 'x')).toBe('order_id');
    expect(toIdentifier('HTTPStatus', 'x')).toBe('http_status');
    expect(toIdentifier('Préférence €', 'x')).toBe('preference');
    expect(toIdentifier('2024 total', 'x')).toBe('c_2024_total');
    expect(toIdentifier('select', 'x')).toBe('select_');
    expect(toIdentifier('x"; DROP TABLE t; --', 'x')).toBe('x_drop_table_t');
    expect(toIdentifier('!!!', 'column_3')).toBe('column_3');
    const long = toIdentifier('a'.repeat(100), 'x');
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(63);
    expect(uniqueIdentifiers(['id', 'ID', 'Id ', 'a'.repeat(70), 'a'.repeat(80)])).toEqual([
      'id',
      'id_2',
      'id_3',
      'a'.repeat(63),
      `${'a'.repeat(61)}_2`,
    ]);
  });
});

describe('type inference', () => {
  it('chooses the narrowest integer type and says which value forced a wider one', async () => {
    const columns = await columnsOf(
      'n.csv',
      csv('small,int,big,huge', '1,1,1,1', '-32768,40000,3000000000,99999999999999999999', '32767,-2,5,0'),
    );
    expect(columns.small).toMatchObject({ type: 'smallint', notes: [] });
    expect(columns.int).toMatchObject({ type: 'integer', notes: ['"40000" (line 3) is past smallint'] });
    expect(columns.big).toMatchObject({ type: 'bigint', notes: ['"3000000000" (line 3) is past integer'] });
    expect(columns.huge).toMatchObject({ type: 'numeric(20,0)' });
  });

  it('keeps leading zeros as text, and treats 1.0 as a decimal, not an integer', async () => {
    const columns = await columnsOf(
      'z.csv',
      csv('zip,price,ratio', '01234,1,1.0', '12345,2.50,2', '99,10.125,1e3'),
    );
    expect(columns.zip).toMatchObject({
      type: 'text',
      notes: ['"01234" (line 2) has leading zeros: kept as text'],
    });
    expect(columns.price).toMatchObject({ type: 'numeric(5,3)', notes: ['"2.50" (line 3) has decimals'] });
    expect(columns.ratio).toMatchObject({ type: 'double precision' });
  });

  it('tells dates, timestamps and timestamps with zones apart, and names mixed date formats', async () => {
    const columns = await columnsOf(
      'd.csv',
      csv(
        'day,at,zoned,mixed,dmy,ambiguous',
        '2024-01-31,2024-01-31,2024-01-31T10:00:00Z,2024-01-31,31/01/2024,01/02/2024',
        '2024-02-29,2024-02-01 10:15:30.5,2024-02-01 10:00,31/01/2024,1/2/2024,03/04/2024',
      ),
    );
    expect(columns.day).toMatchObject({ type: 'date' });
    expect(columns.at).toMatchObject({
      type: 'timestamp',
      notes: ['"2024-02-01 10:15:30.5" (line 3) has a time of day'],
    });
    expect(columns.zoned?.type).toBe('timestamptz');
    expect(columns.zoned?.notes[1]).toMatch(
      /"2024-02-01 10:00" \(line 3\) has none: read in the pipeline's timezone/,
    );
    expect(columns.mixed).toMatchObject({
      type: 'text',
      notes: ['mixed date formats: "2024-01-31" (line 2) and "31/01/2024" (line 3): kept as text'],
    });
    expect(columns.dmy).toMatchObject({ type: 'date', format: 'D/M/YYYY', confidence: 'high' });
    expect(columns.ambiguous).toMatchObject({ type: 'date', format: 'DD/MM/YYYY', confidence: 'low' });
    expect(columns.ambiguous?.notes[0]).toMatch(/ambiguous/);
  });

  it('recognises booleans, uuids, JSON and empty columns, and nullability', async () => {
    const columns = await columnsOf(
      'x.csv',
      csv(
        'ok,ref,doc,empty,maybe',
        'yes,3f2504e0-4f89-11d3-9a0c-0305e82c3301,"{""a"": 1}",,1',
        'no,3f2504e0-4f89-11d3-9a0c-0305e82c3302,[1],,',
      ),
    );
    expect(columns.ok).toMatchObject({ type: 'boolean', nullable: false });
    expect(columns.ref?.type).toBe('uuid');
    expect(columns.doc?.type).toBe('jsonb');
    expect(columns.empty).toMatchObject({ type: 'text', nullable: true, confidence: 'low' });
    expect(columns.maybe).toMatchObject({ type: 'smallint', nullable: true });
  });

  it('reads JSON values by their JSON types, nested ones as jsonb', async () => {
    const columns = await columnsOf(
      'e.ndjson',
      '{"id": 1, "tags": ["a"], "ok": true, "n": 1.5}\n{"id": 2, "tags": {"b": 1}, "ok": false, "extra": "x"}\n',
    );
    expect(Object.keys(columns)).toEqual(['id', 'tags', 'ok', 'n', 'extra']);
    expect(columns.id).toMatchObject({ type: 'smallint', nullable: false, unique: true });
    expect(columns.tags?.type).toBe('jsonb');
    expect(columns.ok?.type).toBe('boolean');
    expect(columns.n).toMatchObject({ type: 'numeric(2,1)', nullable: true });
  });

  it('takes Parquet types as the file declares them', async () => {
    const file = parquetFile({
      id: flat('id', { type: 'INT64' }, [1n, 2n], false),
      amount: flat(
        'amount',
        {
          type: 'INT64',
          converted_type: 'DECIMAL',
          precision: 12,
          scale: 2,
          logical_type: { type: 'DECIMAL', precision: 12, scale: 2 },
        },
        [1n, null],
      ),
      at: flat(
        'at',
        { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } },
        [1n, 2n],
      ),
      local: flat(
        'local',
        { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MILLIS' } },
        [1n, 2n],
      ),
      span: flat('span', { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 12, converted_type: 'INTERVAL' }, [
        new Uint8Array(12),
        new Uint8Array(12),
      ]),
    });
    const columns = await columnsOf('p.parquet', file);
    expect(columns.id).toMatchObject({
      type: 'bigint',
      nullable: false,
      confidence: 'high',
      notes: ['declared INT64'],
    });
    expect(columns.amount).toMatchObject({ type: 'numeric(12,2)', nullable: true });
    expect(columns.at?.type).toBe('timestamptz');
    expect(columns.local?.type).toBe('timestamp');
    expect(columns.span?.skip).toMatch(/INTERVAL, which Inlet cannot read/);
  });

  it('reads XLSX cells by their types and date formats', async () => {
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('S');
    sheet.addRow(['when', 'day', 'n', 'flag', 'code']);
    sheet.addRow([
      new Date(Date.UTC(2024, 0, 31, 10, 30)),
      new Date(Date.UTC(2024, 0, 31)),
      1.5,
      true,
      '007',
    ]);
    sheet.addRow([new Date(Date.UTC(2024, 1, 1, 11, 0)), new Date(Date.UTC(2024, 1, 1)), 2, false, '008']);
    sheet.getColumn(1).numFmt = 'yyyy-mm-dd hh:mm';
    sheet.getColumn(2).numFmt = 'yyyy-mm-dd';
    const columns = await columnsOf('b.xlsx', Buffer.from(await book.xlsx.writeBuffer()));
    expect(columns.when?.type).toBe('timestamp');
    expect(columns.day?.type).toBe('date');
    expect(columns.n?.type).toBe('numeric(2,1)');
    expect(columns.flag?.type).toBe('boolean');
    expect(columns.code?.type).toBe('text');
  });

  it('proposes a key only for a column unique and non-null in the sample', async () => {
    const sample = await sampleSource(
      memorySource('k.csv', csv('name,customer_id,n', 'a,1,1', 'b,2,1', 'c,3,')),
      { rows: 10 },
    );
    expect(keyCandidate(inferColumns(sample))?.name).toBe('customer_id');
    const none = await sampleSource(memorySource('k.csv', csv('a,b', '1,1', '1,2', ',3')), { rows: 10 });
    expect(keyCandidate(inferColumns(none))?.name).toBe('b');
  });

  it('reads only the sample it is asked for', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `${i}`);
    const sample = await sampleSource(memorySource('big.csv', csv('n', ...rows), { chunkSize: 1024 }), {
      rows: 100,
    });
    expect(sample).toMatchObject({ rows: 100, complete: false });
    expect(inferColumns(sample)[0]?.confidence).toBe('high');
  });
});

describe('proposePipeline', () => {
  it('proposes the encoding and delimiter it read: a Windows-1252 export with semicolons', async () => {
    const file = Buffer.from('Kunde;Betrag\r\nM\xfcller;1,50\r\nGr\xe4fin;2,00\r\n', 'latin1');
    const { yaml } = await proposePipeline(memorySource('kunden.csv', file), { table: 'kunden' });
    expect(yaml).toContain('    csv: { delimiter: ";", encoding: windows1252 }');
    const [pipeline] = parseConfig(yaml, 'proposal').pipelines;
    expect(pipeline?.csv).toMatchObject({ delimiter: ';', encoding: 'windows1252' });
    expect(pipeline?.columns.map((c) => c.source ?? c.name)).toEqual(['Kunde', 'Betrag']);
  });

  it('proposes neither for a plain UTF-8 file with commas, and reads UTF-16 with tabs', async () => {
    const plain = await proposePipeline(memorySource('p.csv', 'a,b\nx,ü\n'), { table: 'p' });
    expect(plain.yaml).not.toContain('csv:');
    const unicode = Buffer.from('\ufeffid\tname\r\n1\tZoë\r\n', 'utf16le');
    const { yaml } = await proposePipeline(memorySource('u.txt', unicode), { table: 'u' });
    expect(yaml).toContain('    csv: { delimiter: "\\t", encoding: utf16le }');
    expect(parseConfig(yaml, 'proposal').pipelines[0]?.columns.map((c) => c.name)).toEqual(['id', 'name']);
  });

  it('prints YAML that the config loader accepts as it is', async () => {
    const file = csv('Order ID;Customer Name;amount;order', '1;Ada;12.50;x', '2;"Grace; Hopper";7;y');
    const { yaml } = await proposePipeline(memorySource('orders 2024.csv.br', brotliCompressSync(file)), {
      table: 'Sales.Orders',
    });
    const config = parseConfig(yaml, 'proposal');
    const [pipeline] = config.pipelines;
    expect(pipeline).toMatchObject({
      name: 'orders',
      format: 'csv',
      compression: 'brotli',
      csv: { delimiter: ';' },
      table: { schema: 'sales', name: 'orders' },
      createTable: true,
    });
    expect(pipeline?.columns.map((c) => [c.name, c.type.sql, c.source, c.nullable])).toEqual([
      ['order_id', 'smallint', 'Order ID', false],
      ['customer_name', 'text', 'Customer Name', false],
      ['amount', 'numeric(4,2)', 'amount', false],
      ['order_', 'text', 'order', false],
    ]);
    expect(yaml).toContain('# Key candidate: order_id is unique and non-null in all 2 rows.');
    expect(yaml).toMatch(
      /# high confidence: 2 values; "12.50" \(line 2\) has decimals\n {6}- \{ name: amount, type: "numeric\(4,2\)", nullable: false \}/,
    );
  });
});
