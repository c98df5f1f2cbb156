/**
 * Runs one ingestion in its own process so the parent can read its peak RSS and wall time
 * without the benchmark's own memory in the figure. Prints one JSON line.
 * Usage: tsx bench/ingest-child.ts <databaseUrl> <file> <table> [auto|text] [csv|parquet|xlsx]
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parseConfig } from '../src/config/load.js';
import { createPool } from '../src/db/connect.js';
import { ingest } from '../src/engine/ingest.js';
import type { Pipeline } from '../src/model/contract.js';
import { ORDERS_COLUMNS } from './orders-data.js';
import { peakRssMb } from './peak-rss.js';

const [url, file, table, copyFormat = 'auto', format = 'csv'] = process.argv.slice(2);
if (!url || !file || !table) throw new Error('usage: ingest-child <databaseUrl> <file> <table>');

const pipeline = parseConfig(
  JSON.stringify({
    pipelines: [{ name: 'bench', format, table: `public.${table}`, columns: ORDERS_COLUMNS }],
  }),
  'bench pipeline',
).pipelines[0] as Pipeline;

const pool = createPool(url, { max: 2 });
const size = (await stat(file)).size;
const started = performance.now();
const result = await ingest(
  {
    uri: `file://${file}#${table}`,
    name: file,
    size,
    open: async () => createReadStream(file, { highWaterMark: 1 << 20 }),
    openRange: async (start: number, end: number) =>
      createReadStream(file, { start, end: end - 1, highWaterMark: 1 << 20 }),
  },
  pipeline,
  { pool, force: true, copyFormat: copyFormat === 'text' ? 'text' : 'auto' },
);
const seconds = (performance.now() - started) / 1000;
await pool.end();
if (result.status !== 'loaded') throw new Error(`bench ingest ${result.status}: ${result.error?.message}`);
process.stdout.write(
  `${JSON.stringify({ seconds, rows: result.rowsLoaded, bytes: size, maxRssMb: peakRssMb() })}\n`,
);
