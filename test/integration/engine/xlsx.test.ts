import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { COPY_FORMATS, engineHarness } from '../../harness/engine.js';
import { memorySource } from '../../harness/sources.js';
import { cell, handmadeXlsx } from '../../harness/xlsx.js';

const h = engineHarness('xl');

/** A workbook as Excel-like programs write it: shared strings, styles, formulas with cached results. */
async function ordersWorkbook(): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const notes = book.addWorksheet('Notes');
  notes.addRow(['not this one']);
  const sheet = book.addWorksheet('Orders');
  sheet.addRow(['Quarterly export']); // a title row above the header
  sheet.addRow(['order_id', 'Placed At', 'amount', 'paid', 'customer', 'double']);
  sheet.addRow([
    1,
    new Date(Date.UTC(2024, 0, 31, 13, 45, 0)),
    12.5,
    true,
    'Ada',
    { formula: 'C3*2', result: 25 },
  ]);
  sheet.addRow([
    2,
    new Date(Date.UTC(2024, 1, 29)),
    0.1 + 0.2,
    false,
    { richText: [{ text: 'Gr' }, { text: 'ace' }] },
    { formula: 'C4*2', result: 0.6 },
  ]);
  sheet.addRow([]);
  sheet.addRow([3, null, null, null, 'x', null]);
  sheet.getColumn(2).numFmt = 'yyyy-mm-dd hh:mm';
  return Buffer.from(await book.xlsx.writeBuffer());
}

const ORDERS_COLUMNS = [
  { name: 'order_id', type: 'bigint', nullable: false },
  { name: 'placed_at', type: 'timestamp', source: 'Placed At' },
  { name: 'amount', type: 'numeric(12,2)' },
  { name: 'paid', type: 'boolean' },
  { name: 'customer', type: 'text' },
  { name: 'double', type: 'numeric' },
];

describe.each(COPY_FORMATS)('%s', (_label, format) => {
  beforeAll(() => {
    h.state.copyFormat = format;
  });

  it('loads the chosen sheet from its header row: numbers, dates, booleans, rich text, formulas by cached value', async () => {
    const bytes = await ordersWorkbook();
    const reads: [number, number][] = [];
    for (const [sheet, ranged] of [
      ['Orders', { reads }],
      [2, false],
    ] as const) {
      const pipeline = await h.freshPipeline({ columns: ORDERS_COLUMNS, xlsx: { sheet, headerRow: 2 } });
      const result = await h.run(memorySource('orders.xlsx', bytes, { ranged, chunkSize: 1024 }), pipeline);
      expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 3, rowsRejected: 0 });
      const { rows } = await h.state.pool.query(
        `SELECT order_id::text, placed_at::text, amount::text, paid, customer, double::text FROM public.${pipeline.table.name} ORDER BY 1`,
      );
      expect(rows).toEqual([
        {
          order_id: '1',
          placed_at: '2024-01-31 13:45:00',
          amount: '12.50',
          paid: true,
          customer: 'Ada',
          double: '25',
        },
        {
          order_id: '2',
          placed_at: '2024-02-29 00:00:00',
          amount: '0.30',
          paid: false,
          customer: 'Grace',
          double: '0.6',
        },
        { order_id: '3', placed_at: null, amount: null, paid: null, customer: 'x', double: null },
      ]);
      expect((await h.ledger(result.ingestionId))?.details).toMatchObject({
        format: 'xlsx',
        xlsx: { sheet: 'Orders', headerRow: 2, dateSystem: 1900, read: ranged ? 'ranged' : 'spooled' },
      });
    }
    // By range: the directory and the small parts; the sheet itself came from the one pass over the file.
    const header = bytes.indexOf('xl/worksheets/sheet2.xml') - 30;
    const sheetData = header + 30 + bytes.readUInt16LE(header + 26) + bytes.readUInt16LE(header + 28);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.filter(([start]) => start === sheetData)).toEqual([]);
  });

  it('converts serials in the 1900 system (with the Lotus 1900-02-29 bug) and in the 1904 system', async () => {
    const columns = [
      { name: 'serial', type: 'text' },
      { name: 'day', type: 'date' },
      { name: 'at', type: 'timestamp' },
      { name: 'shown', type: 'text' },
    ];
    const rows = (values: [number, number][]) =>
      `<row r="1">${cell.str('A1', 'serial')}${cell.str('B1', 'day')}${cell.str('C1', 'at')}${cell.str('D1', 'shown')}</row>${values
        .map(
          ([day, at], i) =>
            `<row r="${i + 2}">${cell.str(`A${i + 2}`, String(day))}${cell.num(`B${i + 2}`, day)}${cell.num(`C${i + 2}`, at)}${cell.num(`D${i + 2}`, at, 1)}</row>`,
        )
        .join('')}`;
    const pipeline = await h.freshPipeline({ columns, rejects: { maxRatio: 1 } });
    const in1900 = handmadeXlsx({
      styles: [0, 'yyyy-mm-dd hh:mm:ss'],
      sheets: [
        {
          name: 'S',
          rows: rows([
            [1, 1.5],
            [59, 59.25],
            [60, 45322.5729166667],
            [61, 45322.0000000001],
          ]),
        },
      ],
    });
    const result = await h.run(memorySource('1900.xlsx', in1900), pipeline);
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 3, rowsRejected: 1 });
    expect(result.rejects.map((r) => [r.line, r.column, r.value, r.reason])).toEqual([
      [4, 'day', '60', "is 1900-02-29, a day that does not exist (Excel's 1900 leap-year bug)"],
    ]);
    const in1904 = handmadeXlsx({
      date1904: true,
      styles: [0, 'yyyy-mm-dd hh:mm:ss'],
      sheets: [{ name: 'S', rows: rows([[0, 43860.5729166667]]) }],
    });
    expect((await h.run(memorySource('1904.xlsx', in1904), pipeline)).status).toBe('loaded');
    const { rows: loaded } = await h.state.pool.query(
      `SELECT serial, day::text, at::text, shown FROM public.${pipeline.table.name} ORDER BY at`,
    );
    expect(loaded).toEqual([
      { serial: '1', day: '1900-01-01', at: '1900-01-01 12:00:00', shown: '1900-01-01T12:00:00' },
      { serial: '59', day: '1900-02-28', at: '1900-02-28 06:00:00', shown: '1900-02-28T06:00:00' },
      { serial: '61', day: '1900-03-01', at: '2024-01-31 00:00:00', shown: '2024-01-31' },
      { serial: '0', day: '1904-01-01', at: '2024-01-31 13:45:00', shown: '2024-01-31T13:45:00' },
    ]);
  });

  it('reads inline strings, formula strings, booleans and errors; #N/A is a reject with row and column', async () => {
    const pipeline = await h.freshPipeline({
      columns: [
        { name: 'name', type: 'text' },
        { name: 'score', type: 'integer' },
        { name: 'ok', type: 'boolean' },
      ],
      rejects: { maxRatio: 1 },
    });
    const book = handmadeXlsx({
      sharedStrings: ['name', 'score', 'ok'],
      sheets: [
        {
          name: 'Data',
          rows:
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>' +
            `<row r="2">${cell.str('A2', 'inline & <escaped>')}<c r="B2"><f>1+1</f><v>2</v></c><c r="C2" t="b"><v>1</v></c></row>` +
            '<row r="3"><c r="A3" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="B3" t="e"><f>NA()</f><v>#N/A</v></c><c r="C3" t="b"><v>0</v></c></row>' +
            // No r attributes: cells and rows count on from the previous ones.
            `<row>${cell.str('', 'no refs').replace(' r=""', '')}<c><v>7</v></c></row>`,
        },
      ],
    });
    const result = await h.run(memorySource('strings.xlsx', book), pipeline);
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 2, rowsRejected: 1 });
    expect(result.rejects.map((r) => [r.line, r.record, r.column, r.value, r.reason])).toEqual([
      [3, 2, 'score', '#N/A', 'is an Excel error (#N/A)'],
    ]);
    expect(await h.rows(pipeline)).toEqual([
      { name: 'inline & <escaped>', score: 2, ok: true },
      { name: 'no refs', score: 7, ok: null },
    ]);
  });

  it('rejects a row with a value right of the header, and a time of day going into a timestamp', async () => {
    const pipeline = await h.freshPipeline({
      columns: [{ name: 'at', type: 'timestamp' }],
      rejects: { maxRatio: 1 },
    });
    const book = handmadeXlsx({
      styles: [0, 'hh:mm'],
      sheets: [
        {
          name: 'S',
          rows: `<row r="1">${cell.str('A1', 'at')}</row><row r="2">${cell.num('A2', 0.5, 1)}</row><row r="3">${cell.num('A3', 45322, 1)}${cell.str('C3', 'stray')}</row>`,
        },
      ],
    });
    const result = await h.run(memorySource('t.xlsx', book), pipeline);
    expect(result.rejects.map((r) => [r.line, r.column, r.reason])).toEqual([
      [2, 'at', 'is a time of day without a date'],
      [3, undefined, "has a value in column C, right of the header's last column A"],
    ]);
  });

  it('rejects a header that differs from the contract with the exact diff', async () => {
    const pipeline = await h.freshPipeline({ columns: ORDERS_COLUMNS });
    const book = handmadeXlsx({
      sheets: [
        {
          name: 'Orders',
          rows: `<row r="1">${['order_id', 'Placed At', 'amt', 'paid', 'customer', 'double'].map((n, i) => cell.str(`${'ABCDEF'[i]}1`, n)).join('')}</row>`,
        },
      ],
    });
    const result = await h.run(memorySource('drift.xlsx', book), pipeline);
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'schema_drift' } });
    expect(result.error?.message).toContain(
      `The header of sheet "Orders" (row 1) does not match pipeline "${pipeline.name}": missing column "amount" (expected by the contract); unexpected column "amt" (not in the contract; did you mean "amount"?)`,
    );
  });

  it('names the sheets when the chosen one does not exist, and the row when the header row is empty', async () => {
    const bytes = await ordersWorkbook();
    const missing = await h.freshPipeline({ columns: ORDERS_COLUMNS, xlsx: { sheet: 'Totals' } });
    const noSheet = await h.run(memorySource('o.xlsx', bytes), missing);
    expect(noSheet).toMatchObject({ status: 'rejected', error: { code: 'xlsx_no_such_sheet' } });
    expect(noSheet.error?.message).toMatch(/no sheet "Totals".*its sheets are "Notes", "Orders"/);
    const third = await h.freshPipeline({ columns: ORDERS_COLUMNS, xlsx: { sheet: 3 } });
    expect((await h.run(memorySource('o.xlsx', bytes), third)).error?.message).toMatch(/no sheet number 3/);
    const emptyHeader = await h.freshPipeline({
      columns: ORDERS_COLUMNS,
      xlsx: { sheet: 'Orders', headerRow: 5 },
    });
    expect((await h.run(memorySource('o.xlsx', bytes), emptyHeader)).error).toMatchObject({
      code: 'xlsx_no_header',
    });
  });

  it('rejects truncated, damaged and fake workbooks clearly, loading nothing (B15)', async () => {
    const pipeline = await h.freshPipeline({
      columns: ORDERS_COLUMNS,
      xlsx: { sheet: 'Orders', headerRow: 2 },
    });
    const bytes = await ordersWorkbook();
    for (const ranged of [true, false]) {
      const cut = await h.run(
        memorySource('cut.xlsx', bytes.subarray(0, bytes.length - 500), { ranged }),
        pipeline,
      );
      expect(cut).toMatchObject({ status: 'rejected', error: { code: 'corrupt_zip' } });
      expect(cut.error?.message).toMatch(/^The XLSX workbook is truncated or damaged/);
    }
    const brokenXml = handmadeXlsx(
      { sheets: [{ name: 'S', rows: '' }] },
      { 'xl/worksheets/sheet1.xml': '<worksheet><sheetData><row><c><v>1</v></row></sheetData></worksheet>' },
    );
    const plain = await h.freshPipeline({ columns: ORDERS_COLUMNS });
    const xml = await h.run(memorySource('xml.xlsx', brokenXml), plain);
    expect(xml).toMatchObject({ status: 'rejected', error: { code: 'corrupt_xlsx' } });
    expect(xml.error?.message).toMatch(/sheet "S" is not valid XML/);
    const noTypes = handmadeXlsx({ sheets: [{ name: 'S', rows: '' }] }, { '[Content_Types].xml': undefined });
    expect((await h.run(memorySource('plain.xlsx', noTypes), plain)).error).toMatchObject({
      code: 'not_xlsx',
    });
    const flipped = Buffer.from(bytes);
    // Damage the compressed data of the sheet: it starts right after its local header's name.
    const sheetData = bytes.indexOf('xl/worksheets/sheet2.xml') + 'xl/worksheets/sheet2.xml'.length;
    flipped.fill(0x55, sheetData + 4, sheetData + 60);
    const damaged = await h.run(memorySource('damaged.xlsx', flipped, { ranged: true }), pipeline);
    expect(damaged.status).toBe('rejected');
    expect(damaged.error?.code).toMatch(/^corrupt_(zip|xlsx)$/);
    expect(await h.rows(pipeline)).toEqual([]);
  });
});
