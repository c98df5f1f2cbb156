/**
 * Runs one ingestion in its own process so the parent can read its peak RSS and wall time
 * without the benchmark's own memory in the figure. Prints one JSON line.
 * Usage: tsx bench/ingest-child.ts <databaseUrl> <file> <table> [auto|text]
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createPool } from '../src/db/connect.js';
import { parseColumnType } from '../src/engine/column-type.js';
import { DEFAULT_CSV, DEFAULT_MAX_DECOMPRESSED_BYTES, type Pipeline } from '../src/engine/contract.js';
import { ingest } from '../src/engine/ingest.js';
import { ORDERS_COLUMNS } from './orders-data.js';

const [url, file, table, copyFormat = 'auto'] = process.argv.slice(2);
if (!url || !file || !table) throw new Error('usage: ingest-child <databaseUrl> <file> <table>');

const pipeline: Pipeline = {
  name: 'bench',
  match: ['**'],
  format: 'csv',
  csv: DEFAULT_CSV,
  table: { schema: 'public', name: table },
  createTable: false,
  mode: 'append',
  key: [],
  columns: ORDERS_COLUMNS.map((c) => {
    const type = parseColumnType(c.type);
    if (typeof type === 'string') throw new Error(type);
    return { name: c.name, type, source: c.name, nullable: !('nullable' in c) };
  }),
  rejects: { maxRatio: 0 },
  duplicateKeys: 'last',
  timezone: 'UTC',
  onDrift: 'reject',
  afterLoad: 'none',
  infer: false,
  limits: { maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BYTES },
};

const pool = createPool(url, { max: 2 });
const size = (await stat(file)).size;
const started = performance.now();
const result = await ingest(
  {
    uri: `file://${file}#${table}`,
    name: file,
    size,
    open: async () => createReadStream(file, { highWaterMark: 1 << 20 }),
  },
  pipeline,
  { pool, force: true, copyFormat: copyFormat === 'text' ? 'text' : 'auto' },
);
const seconds = (performance.now() - started) / 1000;
await pool.end();
if (result.status !== 'loaded') throw new Error(`bench ingest ${result.status}: ${result.error?.message}`);
process.stdout.write(
  `${JSON.stringify({ seconds, rows: result.rowsLoaded, bytes: size, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
