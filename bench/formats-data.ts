/**
 * The benchmark's orders (bench/orders-data.ts) as Parquet and as XLSX: the same rows and values as
 * the CSV file, so that loading them can be compared with loading the CSV in the same run.
 */
import ExcelJS from 'exceljs';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import { orderRow } from './orders-data.js';

interface Order {
  id: bigint;
  placedAtMicros: bigint;
  customer: string;
  /** In cents: the unscaled value of numeric(12,2). */
  amountCents: bigint;
  paid: boolean;
}

function order(i: number): Order {
  // One source of truth for the values: the CSV row, parsed back.
  const line = orderRow(i).trimEnd();
  const quoted = line.indexOf('"');
  const parts = quoted < 0 ? line.split(',') : splitQuoted(line, quoted);
  const [id, placedAt, customer, amount, paid] = parts as [string, string, string, string, string];
  return {
    id: BigInt(id),
    placedAtMicros: BigInt(Date.parse(placedAt)) * 1000n,
    customer,
    amountCents: BigInt(amount.replace('.', '')),
    paid: paid === 'true',
  };
}

function splitQuoted(line: string, quoted: number): string[] {
  const close = line.indexOf('"', quoted + 1);
  const head = line.slice(0, quoted - 1).split(',');
  const tail = line.slice(close + 2).split(',');
  return [...head, line.slice(quoted + 1, close), ...tail];
}

const ORDERS_PARQUET_SCHEMA = [
  { name: 'root', num_children: 5 },
  { name: 'order_id', type: 'INT64', repetition_type: 'REQUIRED' },
  {
    name: 'placed_at',
    type: 'INT64',
    repetition_type: 'OPTIONAL',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
  },
  {
    name: 'customer',
    type: 'BYTE_ARRAY',
    repetition_type: 'OPTIONAL',
    converted_type: 'UTF8',
    logical_type: { type: 'STRING' },
  },
  {
    name: 'amount',
    type: 'INT64',
    repetition_type: 'OPTIONAL',
    converted_type: 'DECIMAL',
    precision: 12,
    scale: 2,
    logical_type: { type: 'DECIMAL', precision: 12, scale: 2 },
  },
  { name: 'paid', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
] as const;

/**
 * `rows` orders as a snappy Parquet file in row groups of `rowGroupSize` rows, as pyarrow lays one
 * out (nullable columns); `copies` > 1 writes them that many times over, for a file many times larger
 * at the cost of encoding each copy only.
 */
export function writeOrdersParquet(path: string, rows: number, copies = 1, rowGroupSize = 100_000): void {
  const ids: bigint[] = [];
  const placed: bigint[] = [];
  const customers: string[] = [];
  const amounts: bigint[] = [];
  const paid: boolean[] = [];
  for (let i = 0; i < rows; i++) {
    const o = order(i);
    ids.push(o.id);
    placed.push(o.placedAtMicros);
    customers.push(o.customer);
    amounts.push(o.amountCents);
    paid.push(o.paid);
  }
  const writer = new ParquetWriter({
    writer: fileWriter(path),
    // hyparquet-writer carries its own copy of hyparquet's types.
    schema: ORDERS_PARQUET_SCHEMA as unknown as ConstructorParameters<typeof ParquetWriter>[0]['schema'],
  });
  for (let copy = 0; copy < copies; copy++) {
    void writer.write({
      rowGroupSize,
      columnData: [
        { name: 'order_id', data: ids },
        { name: 'placed_at', data: placed },
        { name: 'customer', data: customers },
        { name: 'amount', data: amounts },
        { name: 'paid', data: paid },
      ],
    });
  }
  writer.finish();
}

/**
 * `rows` orders as an XLSX sheet, written as a spreadsheet program writes one: shared strings, the
 * timestamp as a date cell, the amount as a number.
 */
export async function writeOrdersXlsx(path: string, rows: number): Promise<void> {
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true });
  const sheet = book.addWorksheet('Orders');
  sheet.addRow(['order_id', 'placed_at', 'customer', 'amount', 'paid']).commit();
  for (let i = 0; i < rows; i++) {
    const o = order(i);
    const row = sheet.addRow([
      Number(o.id),
      new Date(Number(o.placedAtMicros / 1000n)),
      o.customer,
      Number(o.amountCents) / 100,
      o.paid,
    ]);
    row.getCell(2).numFmt = 'yyyy-mm-dd hh:mm:ss.000';
    row.commit();
  }
  sheet.commit();
  await book.commit();
}
