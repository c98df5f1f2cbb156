/**
 * The cli-parquet section of `npm run bench` (alone: `BENCH_ONLY=cli-parquet npm run bench`): `inlet
 * ingest` of the orders as Parquet (snappy, row groups of 131,072 rows), a whole process from spawn to
 * exit, beside `psql \copy` of the same rows as CSV into an identical fresh table (skipped, and said so,
 * without psql); then the command's peak RSS for a file of ten times the row groups beside the 1x file's.
 * The CLI is built first (`npm run build`). The 1x file has the bench's rows and takes its repeats.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildCli, type CliBenchOptions } from './cli.js';
import { writeOrdersParquet } from './formats-data.js';
import { ORDERS_COLUMNS } from './orders-data.js';
import { PEAK_RSS_IMPORT, peakRssFromStderr } from './peak-rss.js';
import { tableRow } from './table.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/inlet.cjs');
const TABLE = 'bench_cli_parquet';
const PSQL_TABLE = 'bench_cli_parquet_psql';
/** What arrow-rs (pyarrow, parquet-wasm, DataFusion) writes by default. */
const ROW_GROUP_ROWS = 131_072;

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

export async function benchCliParquet(options: CliBenchOptions): Promise<string[]> {
  const rows: string[] = [
    '',
    '# cli-parquet: inlet ingest of Parquet as a whole process, beside psql \\copy of the same rows as CSV',
  ];
  await buildCli();
  const config = join(options.work, 'cli-parquet.inlet.config.yaml');
  await writeFile(
    config,
    JSON.stringify({
      pipelines: [
        { name: 'bench_parquet', format: 'parquet', table: `public.${TABLE}`, columns: ORDERS_COLUMNS },
      ],
    }),
  );
  const env = { ...process.env, DATABASE_URL: options.url, INLET_CONFIG: config, INLET_LOG_LEVEL: 'warn' };
  const ingest = async (file: string) => {
    const started = performance.now();
    // --force: the same bytes again are a new ingestion, not a skipped duplicate.
    const { stderr } = await run(
      process.execPath,
      ['--import', PEAK_RSS_IMPORT, BIN, 'ingest', file, '--pipeline', 'bench_parquet', '--force'],
      { env },
    );
    const seconds = (performance.now() - started) / 1000;
    return { seconds, rssMb: peakRssFromStderr(stderr) };
  };

  const parquet = join(options.work, 'orders-1x-131072.parquet');
  const parquet10 = join(options.work, 'orders-10x-131072.parquet');
  writeOrdersParquet(parquet, options.rows, 1, ROW_GROUP_ROWS);
  const inlet: number[] = [];
  const psql: number[] = [];
  let rss1 = 0;
  for (let i = 0; i < options.repeats; i++) {
    await options.freshTable(TABLE);
    const one = await ingest(parquet);
    inlet.push(one.seconds);
    rss1 = Math.max(rss1, one.rssMb);
    if (!options.psqlInstalled) continue;
    await options.freshTable(PSQL_TABLE);
    psql.push((await options.psqlCopy(options.file, PSQL_TABLE)) as number);
  }
  const rate = (s: number) => `${fmt(options.rows / s / 1e6)} M rows/s`;
  const label = `inlet ingest ${(options.rows / 1e6).toLocaleString('en')}M rows Parquet`;
  rows.push(
    psql.length === 0
      ? tableRow(`${label}, whole process`, rate(median(inlet)), 'psql not installed', '-')
      : tableRow(
          `${label} vs psql CSV (goal >= 1.0x)`,
          rate(median(inlet)),
          rate(median(psql)),
          `${fmt(median(psql) / median(inlet))}x`,
        ),
  );

  writeOrdersParquet(parquet10, options.rows, 10, ROW_GROUP_ROWS);
  await options.freshTable(TABLE);
  const big = await ingest(parquet10);
  rows.push(
    tableRow(
      'peak RSS, Parquet 10x vs 1x, whole process (goal <= 1.2x)',
      `${fmt(big.rssMb, 0)} MB`,
      `${fmt(rss1, 0)} MB`,
      `${fmt(big.rssMb / rss1)}x`,
    ),
  );
  return rows;
}
