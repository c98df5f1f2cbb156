/**
 * The formats section of `npm run bench` (alone: `BENCH_ONLY=formats npm run bench`). The same orders
 * as the CSV bench, written as Parquet (snappy, row groups of 100,000, nullable columns as pyarrow
 * writes them) and as XLSX (shared strings, a date-formatted timestamp, as exceljs writes a sheet), are
 * loaded by Inlet into the same table; each figure stands beside a reference from the same run:
 *  - the same rows as CSV through Inlet: what a client gains or loses by sending another format;
 *  - the format's reader of the field, reading the file and doing nothing with it (hyparquet decoding
 *    every column; exceljs's streaming reader walking every row): Inlet reads, validates, types and
 *    commits, so a ratio near 1 means the decoder is the cost;
 *  - Parquet peak RSS for a file 10× larger (ten times the row groups) beside the 1× file's: one row
 *    group at a time keeps it flat;
 *  - `inlet ingest` of the XLSX file beside the same of its CSV twin, whole processes from spawn to exit (the
 *    CLI is built first): the load as users feel it, Node's start and the command's modules included. The
 *    load rows above time `ingest()` alone, in which the XLSX reader's modules load (under tsx, compiled
 *    there and then) where the CSV path's were loaded before the timer.
 * BENCH_FORMAT_ROWS (default BENCH_ROWS, 1,000,000: ten row groups) sets the rows of the Parquet file;
 * BENCH_XLSX_ROWS (default a tenth of that: a big spreadsheet) those of the XLSX sheet. Local disk only.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { writeOrdersParquet, writeOrdersXlsx } from './formats-data.js';
import { writeOrdersCsv } from './orders-data.js';
import { tableRow } from './table.js';

export interface IngestRun {
  readonly seconds: number;
  readonly rows: number;
  readonly maxRssMb: number;
}

export interface FormatBenchOptions {
  readonly work: string;
  /** Rows of the Parquet file (and of its CSV twin). */
  readonly rows: number;
  readonly repeats: number;
  /** One Inlet ingestion in its own process, into a fresh table. */
  readonly ingest: (file: string, format: 'csv' | 'parquet' | 'xlsx') => Promise<IngestRun>;
  /** `inlet ingest` of the file as a whole process, into a fresh table, in seconds. */
  readonly command: (file: string, format: 'csv' | 'xlsx') => Promise<number>;
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

async function hyparquetDecode(file: string): Promise<void> {
  const bytes = await readFile(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  await parquetRead({ file: buffer, compressors, utf8: false, onChunk: () => {} });
}

async function exceljsWalk(file: string): Promise<number> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, {
    sharedStrings: 'cache',
    styles: 'cache',
    worksheets: 'emit',
  });
  let rows = 0;
  for await (const sheet of reader) {
    for await (const _row of sheet as unknown as AsyncIterable<unknown>) rows++;
  }
  return rows;
}

export async function benchFormats(options: FormatBenchOptions): Promise<string[]> {
  const { work, repeats, ingest, command, rows } = options;
  const sheetRows = Number(process.env.BENCH_XLSX_ROWS ?? Math.max(1, Math.floor(rows / 10)));
  const csv = join(work, 'orders-parquet-twin.csv');
  const sheetCsv = join(work, 'orders-xlsx-twin.csv');
  const parquet = join(work, 'orders-1x.parquet');
  const parquet10 = join(work, 'orders-10x.parquet');
  const xlsx = join(work, 'orders.xlsx');
  await writeOrdersCsv(csv, rows);
  await writeOrdersCsv(sheetCsv, sheetRows);
  writeOrdersParquet(parquet, rows);
  writeOrdersParquet(parquet10, rows, 10);
  await writeOrdersXlsx(xlsx, sheetRows);

  const times = {
    csv: [] as number[],
    sheetCsv: [] as number[],
    parquet: [] as number[],
    xlsx: [] as number[],
    sheetCsvCommand: [] as number[],
    xlsxCommand: [] as number[],
  };
  const decode: number[] = [];
  const walk: number[] = [];
  let parquetRss = 0;
  for (let i = 0; i < repeats; i++) {
    times.csv.push((await ingest(csv, 'csv')).seconds);
    times.sheetCsv.push((await ingest(sheetCsv, 'csv')).seconds);
    const p = await ingest(parquet, 'parquet');
    times.parquet.push(p.seconds);
    parquetRss = Math.max(parquetRss, p.maxRssMb);
    decode.push(await timeIt(() => hyparquetDecode(parquet)));
    times.xlsx.push((await ingest(xlsx, 'xlsx')).seconds);
    walk.push(await timeIt(() => exceljsWalk(xlsx)));
    times.sheetCsvCommand.push(await command(sheetCsv, 'csv'));
    times.xlsxCommand.push(await command(xlsx, 'xlsx'));
  }
  const big = await ingest(parquet10, 'parquet');

  const perSecond = (seconds: number, n = rows) => `${fmt(n / seconds / 1e6)} M rows/s`;
  const csvSeconds = median(times.csv);
  const sheetCsvSeconds = median(times.sheetCsv);
  const parquetSeconds = median(times.parquet);
  const xlsxSeconds = median(times.xlsx);
  const decodeSeconds = median(decode);
  const walkSeconds = median(walk);
  const sheetCsvCommandSeconds = median(times.sheetCsvCommand);
  const xlsxCommandSeconds = median(times.xlsxCommand);
  return [
    `\n# formats: ${rows.toLocaleString('en')} orders as Parquet, ${sheetRows.toLocaleString('en')} as XLSX, each beside the same rows as CSV; ratios > 1 mean Inlet is faster / leaner`,
    tableRow(
      'Parquet load vs the same rows as CSV',
      perSecond(parquetSeconds),
      perSecond(csvSeconds),
      `${fmt(csvSeconds / parquetSeconds)}x`,
    ),
    tableRow(
      'Parquet load vs hyparquet decoding alone',
      perSecond(parquetSeconds),
      perSecond(decodeSeconds),
      `${fmt(decodeSeconds / parquetSeconds)}x`,
    ),
    tableRow(
      'peak RSS, Parquet 10x vs 1x (goal <= 1.2x)',
      `${fmt(big.maxRssMb, 0)} MB`,
      `${fmt(parquetRss, 0)} MB`,
      `${fmt(big.maxRssMb / parquetRss)}x`,
    ),
    tableRow(
      'scale: Parquet 10x time / 1x time (linear = 10)',
      `${fmt(big.seconds)} s`,
      `${fmt(parquetSeconds)} s`,
      fmt(big.seconds / parquetSeconds, 1),
    ),
    tableRow(
      'XLSX load vs the same rows as CSV',
      perSecond(xlsxSeconds, sheetRows),
      perSecond(sheetCsvSeconds, sheetRows),
      `${fmt(sheetCsvSeconds / xlsxSeconds)}x`,
    ),
    tableRow(
      'inlet ingest XLSX vs CSV, whole process',
      perSecond(xlsxCommandSeconds, sheetRows),
      perSecond(sheetCsvCommandSeconds, sheetRows),
      `${fmt(sheetCsvCommandSeconds / xlsxCommandSeconds)}x`,
    ),
    tableRow(
      'XLSX load vs exceljs reading alone',
      perSecond(xlsxSeconds, sheetRows),
      perSecond(walkSeconds, sheetRows),
      `${fmt(walkSeconds / xlsxSeconds)}x`,
    ),
  ];
}
