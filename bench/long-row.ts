/**
 * The long-row section of `npm run bench` (alone: `BENCH_ONLY=long-row npm run bench`): one CSV row whose
 * quoted `customer` is about 24 MB, loaded through Inlet beside about 24 MB of ordinary order rows in the
 * same run. A scanner that rescans the unfinished row at every chunk makes this ratio grow with the row;
 * a linear one keeps it near 1 (the long row pays for one big value, not for 300,000 rows).
 * BENCH_LONG_ROW_MB (default 24) sets both sizes.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { orderRow } from './orders-data.js';
import { tableRow } from './table.js';

export interface LongRowBenchOptions {
  readonly work: string;
  readonly repeats: number;
  /** One Inlet ingestion of a CSV of orders in its own process, into a fresh table. */
  readonly ingest: (file: string) => Promise<{ seconds: number }>;
}

const HEADER = 'order_id,placed_at,customer,amount,paid\n';
const fmt = (n: number, digits = 2) => n.toFixed(digits);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** A header and one order whose quoted customer fills `bytes` (with a doubled quote every 64 KiB). */
async function writeLongRow(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  out.write(`${HEADER}1000000000,2024-01-01T00:00:00Z,"`);
  const piece = `${'x'.repeat(64 * 1024 - 2)}""`;
  for (let written = 0; written < bytes; written += piece.length) {
    if (!out.write(piece)) await once(out, 'drain');
  }
  out.end('",12.50,true\n');
  await once(out, 'finish');
}

/** A header and ordinary order rows up to `bytes`. */
async function writeShortRows(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  let batch = HEADER;
  let written = 0;
  for (let i = 0; written < bytes; i++) {
    const row = orderRow(i);
    written += row.length;
    batch += row;
    if (batch.length > 1 << 20) {
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  out.end(batch);
  await once(out, 'finish');
}

export async function benchLongRow(options: LongRowBenchOptions): Promise<string[]> {
  const { work, repeats, ingest } = options;
  const megabytes = Number(process.env.BENCH_LONG_ROW_MB ?? 24);
  const bytes = megabytes * 1024 * 1024;
  const long = join(work, 'long-row.csv');
  const short = join(work, 'short-rows.csv');
  await writeLongRow(long, bytes);
  await writeShortRows(short, bytes);
  const longTimes: number[] = [];
  const shortTimes: number[] = [];
  for (let i = 0; i < repeats; i++) {
    shortTimes.push((await ingest(short)).seconds);
    longTimes.push((await ingest(long)).seconds);
  }
  const longSeconds = median(longTimes);
  const shortSeconds = median(shortTimes);
  const mb = (path: string) => stat(path).then((s) => fmt(s.size / 1e6, 1));
  return [
    `\n# long row: one ${await mb(long)} MB CSV row beside ${await mb(short)} MB of short rows, median of ${repeats}; ratio = long / short time (linear: about 1, lower is better)`,
    tableRow(
      `long row: one ${megabytes} MiB row vs short rows`,
      `${fmt(longSeconds)} s`,
      `${fmt(shortSeconds)} s`,
      fmt(longSeconds / shortSeconds),
    ),
  ];
}
