/**
 * Decimal commas (issue 17): `decimalSeparator: ","` on a pipeline or a column reads numbers written as
 * text in the `1.234,56` layout — never guessed — while numbers a file holds as numbers (JSON numbers,
 * XLSX number cells, Parquet numbers) are read as the numbers they are.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { COPY_FORMATS, engineHarness } from '../../harness/engine.js';
import { flat, parquetFile } from '../../harness/parquet.js';
import { memorySource } from '../../harness/sources.js';
import { cell, handmadeXlsx } from '../../harness/xlsx.js';

const h = engineHarness('ds');

const COLUMNS = [
  { name: 'id', type: 'integer', nullable: false },
  { name: 'price', type: 'numeric(12,2)' },
  { name: 'weight', type: 'double precision' },
  { name: 'label', type: 'text' },
];

const priceOf = async (pipeline: Parameters<typeof h.rows>[0]) =>
  (await h.rows(pipeline, 'id')).map((row) => [row.id, row.price, row.weight, row.label]);

describe.each(COPY_FORMATS)('%s', (_label, format) => {
  beforeAll(() => {
    h.state.copyFormat = format;
  });

  it('reads a German export with the pipeline-level decimalSeparator, text columns untouched', async () => {
    const pipeline = await h.freshPipeline({ columns: COLUMNS, decimalSeparator: ',' });
    const csv = 'id;price;weight;label\n1;1.234,56;0,5;1,5 kg\n2;7,00;1.000;x\n3;-0,01;2,5e3;y\n';
    const result = await h.run(memorySource('de.csv', csv), pipeline);
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 3, rowsRejected: 0 });
    expect(await priceOf(pipeline)).toEqual([
      [1, '1234.56', 0.5, '1,5 kg'],
      [2, '7.00', 1000, 'x'],
      [3, '-0.01', 2500, 'y'],
    ]);
  });

  it('rejects a value in the other layout instead of misreading it', async () => {
    const pipeline = await h.freshPipeline({
      columns: COLUMNS,
      decimalSeparator: ',',
      onDrift: 'ignoreExtra',
      rejects: { maxRatio: 1 },
    });
    const result = await h.run(
      memorySource('mixed.csv', 'id,price\n1,"1,5"\n2,1.5\n3,"1,234.50"\n'),
      pipeline,
    );
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 1, rowsRejected: 2 });
    expect(result.rejects.map((r) => [r.line, r.column, r.reason])).toEqual([
      [3, 'price', 'not a number in the format 1.234,56'],
      [4, 'price', 'not a number in the format 1.234,56'],
    ]);
  });

  it('takes a column separator over the pipeline one', async () => {
    const pipeline = await h.freshPipeline({
      decimalSeparator: ',',
      columns: [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'price', type: 'numeric(12,2)', decimalSeparator: '.' },
        { name: 'weight', type: 'double precision' },
      ],
    });
    const result = await h.run(memorySource('c.csv', 'id;price;weight\n1;12.50;0,25\n'), pipeline);
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    expect((await h.rows(pipeline, 'id')).map((r) => [r.price, r.weight])).toEqual([['12.50', 0.25]]);
  });

  it('reads JSON numbers as numbers and JSON strings in the column layout', async () => {
    const pipeline = await h.freshPipeline({ columns: COLUMNS, decimalSeparator: ',' });
    const ndjson =
      '{"id": 1, "price": 1234.5, "weight": 0.5}\n{"id": 2, "price": "1.234,56", "weight": "2,5"}\n';
    expect(await h.run(memorySource('j.ndjson', ndjson), pipeline)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 2,
    });
    expect(await priceOf(pipeline)).toEqual([
      [1, '1234.50', 0.5, null],
      [2, '1234.56', 2.5, null],
    ]);
  });

  it('reads XLSX number cells as numbers and text cells in the column layout', async () => {
    const pipeline = await h.freshPipeline({
      columns: COLUMNS,
      decimalSeparator: ',',
      onDrift: 'ignoreExtra',
    });
    const xlsx = handmadeXlsx({
      sheets: [
        {
          name: 'Sheet1',
          rows:
            `<row r="1">${cell.str('A1', 'id')}${cell.str('B1', 'price')}${cell.str('C1', 'weight')}</row>` +
            `<row r="2">${cell.num('A2', 1)}${cell.num('B2', 1234.5)}${cell.num('C2', 0.5)}</row>` +
            `<row r="3">${cell.num('A3', 2)}${cell.str('B3', '1.234,56')}${cell.str('C3', '2,5')}</row>`,
        },
      ],
    });
    expect(await h.run(memorySource('x.xlsx', xlsx), pipeline)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 2,
    });
    expect(await priceOf(pipeline)).toEqual([
      [1, '1234.50', 0.5, null],
      [2, '1234.56', 2.5, null],
    ]);
  });

  it('reads Parquet numbers as the numbers they are', async () => {
    const pipeline = await h.freshPipeline({
      columns: COLUMNS,
      decimalSeparator: ',',
      onDrift: 'ignoreExtra',
    });
    const parquet = parquetFile({
      id: flat('id', { type: 'INT32' }, [1, 2], false),
      price: flat('price', { type: 'INT64', converted_type: 'DECIMAL', scale: 2, precision: 12 }, [
        123456n,
        -1n,
      ]),
      weight: flat('weight', { type: 'DOUBLE' }, [0.5, 1000]),
    });
    expect(await h.run(memorySource('p.parquet', parquet), pipeline)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 2,
    });
    expect(await priceOf(pipeline)).toEqual([
      [1, '1234.56', 0.5, null],
      [2, '-0.01', 1000, null],
    ]);
  });
});
