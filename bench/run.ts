/**
 * `npm run bench`: Inlet's load speed and memory beside references measured in the same run
 * (docs/benchmarks.md). Every figure is printed as a ratio; nothing here asserts a time.
 * Uses DATABASE_URL when set, else a throwaway embedded PostgreSQL. Loopback only.
 * BENCH_ROWS (default 1,000,000) sets the size of the 1× file.
 * BENCH_ONLY=lambda|cli|cli-parquet|load|long-row|formats|server|snapshots|sftp runs one section; unset, all of them. The cli
 * section (bench/cli.ts) reads BENCH_CLI_RUNS; the formats
 * section (bench/formats.ts) reads BENCH_FORMAT_ROWS; the long-row section (bench/long-row.ts) BENCH_LONG_ROW_MB; the upload service's section (bench/server.ts) reads
 * BENCH_SERVER_FILES, BENCH_SERVER_UPLOADS and BENCH_SERVER_ROUNDS; the snapshot section (bench/snapshots.ts) reads BENCH_SNAPSHOT_MB; the SFTP section (bench/sftp.ts) BENCH_SFTP_MB.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline as pump } from 'node:stream/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { benchCli, commandIngest } from './cli.js';
import { benchCliParquet } from './cli-parquet.js';
import { benchFormats } from './formats.js';
import { benchLongRow } from './long-row.js';
import { ORDERS_TABLE_SQL, writeOrdersCsv } from './orders-data.js';
import { benchServer } from './server.js';
import { benchSftp } from './sftp.js';
import { benchSnapshots } from './snapshots.js';
import { tableRow } from './table.js';

const run = promisify(execFile);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const SECTIONS = [
  'lambda',
  'cli',
  'cli-parquet',
  'load',
  'long-row',
  'formats',
  'server',
  'snapshots',
  'sftp',
] as const;
const ONLY = process.env.BENCH_ONLY?.trim() || undefined;
if (ONLY !== undefined && !(SECTIONS as readonly string[]).includes(ONLY)) {
  throw new Error(`BENCH_ONLY must be one of ${SECTIONS.join(', ')}, got "${ONLY}"`);
}
const wants = (section: (typeof SECTIONS)[number]) => ONLY === undefined || ONLY === section;

const work = await mkdtemp(join(tmpdir(), 'inlet-bench-'));
// The embedded server runs as the postgres OS user when we are root: it must reach its directory.
await chmod(work, 0o755);
const embedded = process.env.DATABASE_URL
  ? undefined
  : await startEmbeddedPostgres({ dataDir: join(work, 'data'), ephemeral: false });
const url = process.env.DATABASE_URL ?? (embedded?.url as string);
const client = new pg.Client({ connectionString: url });
await client.connect();
{
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  await migrate(pool);
  await pool.end();
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const fmt = (n: number, digits = 2) => n.toFixed(digits);

async function freshTable(name: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${name}`);
  await client.query(ORDERS_TABLE_SQL(name));
  await client.query('CHECKPOINT');
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

async function psqlInstalled(): Promise<boolean> {
  try {
    await run('psql', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/** psql's \copy: the reference the goal is stated against. */
async function psqlCopy(file: string, table: string): Promise<number | undefined> {
  if (!(await psqlInstalled())) return undefined;
  return timeIt(() =>
    run('psql', [
      url,
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `\\copy ${table} FROM '${file}' WITH (FORMAT csv, HEADER true)`,
    ]),
  );
}

/** The same raw bytes through COPY FROM STDIN (FORMAT csv), what \copy does, from Node: always available. */
async function rawCopy(file: string, table: string): Promise<number> {
  return timeIt(() =>
    pump(
      createReadStream(file, { highWaterMark: 1 << 20 }),
      client.query(copyFrom(`COPY ${table} FROM STDIN WITH (FORMAT csv, HEADER true)`)),
    ),
  );
}

interface ChildResult {
  seconds: number;
  rows: number;
  bytes: number;
  maxRssMb: number;
}

async function inlet(
  file: string,
  table: string,
  copyFormat: 'auto' | 'text' = 'auto',
  format: 'csv' | 'parquet' | 'xlsx' = 'csv',
): Promise<ChildResult> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'ingest-child.ts'), url, file, table, copyFormat, format],
    { maxBuffer: 1 << 20, env: { ...process.env, INLET_LOG_LEVEL: 'warn' } },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as ChildResult;
}

/**
 * Cold-start proxy: the bundle's size, and the time a fresh Node process takes to import it,
 * beside the time it takes to start and exit with nothing imported (the same-run reference).
 */
async function lambdaBundle(): Promise<void> {
  const bundle = join(work, 'lambda', 'index.mjs');
  await run(process.execPath, [join(import.meta.dirname, '../scripts/build-lambda.mjs'), bundle]);
  const { size } = await stat(bundle);
  const importMs: number[] = [];
  const emptyMs: number[] = [];
  // Nine runs: single process starts on a shared 2-core machine vary by tens of milliseconds.
  for (let i = 0; i < 9; i++) {
    emptyMs.push(await timeIt(() => run(process.execPath, ['-e', '0'])).then((s) => s * 1000));
    importMs.push(
      await timeIt(() =>
        run(process.execPath, ['-e', `import(${JSON.stringify(bundle)}).then(() => 0)`]),
      ).then((s) => s * 1000),
    );
  }
  const bare = median(emptyMs);
  const loaded = median(importMs);
  line('Lambda bundle size (goal <= 2 MB)', `${fmt(size / 1024 / 1024)} MB`);
  line(
    'Lambda bundle import (goal <= 300 ms)',
    `${fmt(loaded - bare, 0)} ms`,
    `node start ${fmt(bare, 0)} ms`,
  );
}

function line(label: string, value: string, reference = '', ratio = ''): void {
  console.log(tableRow(label, value, reference, ratio));
}

try {
  await mkdir(work, { recursive: true });
  const file = join(work, 'orders-1x.csv');
  // The 1x file is generated only when the load or a cli section runs.
  const bytes = wants('load') || wants('cli') || wants('cli-parquet') ? await writeOrdersCsv(file, ROWS) : 0;
  if (wants('load')) {
    console.log(
      `# Inlet bench: ${ROWS.toLocaleString('en')} rows, ${fmt(bytes / 1e6, 1)} MB CSV, 5 typed columns`,
    );
    console.log(`# median of ${REPEATS} runs each; ratios > 1 mean Inlet is faster / leaner\n`);
  } else {
    console.log(`# Inlet bench: the ${ONLY} section only (BENCH_ONLY)\n`);
  }
  line('figure', 'inlet', 'reference', 'ratio');
  // First, while the database is idle: its background writes after the big loads would slow the import.
  if (wants('lambda')) await lambdaBundle();
  if (wants('cli') || wants('cli-parquet')) {
    // Both whole-process sections compare the command with psql \copy on the same database and 1x file.
    const cliOptions = {
      url,
      work,
      file,
      rows: ROWS,
      repeats: REPEATS,
      freshTable,
      psqlInstalled: await psqlInstalled(),
      psqlCopy,
    };
    if (wants('cli')) for (const row of await benchCli(cliOptions)) console.log(row);
    if (wants('cli-parquet')) for (const row of await benchCliParquet(cliOptions)) console.log(row);
  }

  if (wants('load')) {
    const psqlTimes: number[] = [];
    const rawTimes: number[] = [];
    const inletRuns: ChildResult[] = [];
    const textRuns: ChildResult[] = [];
    for (let i = 0; i < REPEATS; i++) {
      await freshTable('bench_psql');
      const p = await psqlCopy(file, 'bench_psql');
      if (p !== undefined) psqlTimes.push(p);
      await freshTable('bench_raw');
      rawTimes.push(await rawCopy(file, 'bench_raw'));
      await freshTable('bench_inlet');
      inletRuns.push(await inlet(file, 'bench_inlet'));
      await freshTable('bench_inlet');
      textRuns.push(await inlet(file, 'bench_inlet', 'text'));
    }
    const inletSeconds = median(inletRuns.map((r) => r.seconds));
    const rowsPerSecond = (seconds: number) => `${fmt(ROWS / seconds / 1e6)} M rows/s`;
    if (psqlTimes.length > 0) {
      const ref = median(psqlTimes);
      line(
        'throughput vs psql \\copy (goal >= 1.0x)',
        rowsPerSecond(inletSeconds),
        rowsPerSecond(ref),
        `${fmt(ref / inletSeconds)}x`,
      );
    } else {
      line('throughput vs psql \\copy', rowsPerSecond(inletSeconds), 'psql not installed', '-');
    }
    const textSeconds = median(textRuns.map((r) => r.seconds));
    line(
      'binary COPY vs Inlet with text COPY',
      rowsPerSecond(inletSeconds),
      rowsPerSecond(textSeconds),
      `${fmt(textSeconds / inletSeconds)}x`,
    );
    const raw = median(rawTimes);
    line(
      'throughput vs raw COPY csv from Node',
      rowsPerSecond(inletSeconds),
      rowsPerSecond(raw),
      `${fmt(raw / inletSeconds)}x`,
    );
    line('end-to-end MB/s (validated, typed, committed)', `${fmt(bytes / 1e6 / inletSeconds, 0)} MB/s`);

    const bigFile = join(work, 'orders-10x.csv');
    await writeOrdersCsv(bigFile, ROWS * 10);
    await freshTable('bench_inlet');
    const big = await inlet(bigFile, 'bench_inlet');
    const small = Math.max(...inletRuns.map((r) => r.maxRssMb));
    line(
      'peak RSS, 10x file vs 1x file (goal <= 1.2x)',
      `${fmt(big.maxRssMb, 0)} MB`,
      `${fmt(small, 0)} MB`,
      `${fmt(big.maxRssMb / small)}x`,
    );
    line(
      'scale: 10x rows time / 1x time (linear = 10)',
      `${fmt(big.seconds)} s`,
      `${fmt(inletSeconds)} s`,
      `${fmt(big.seconds / inletSeconds, 1)}`,
    );
    await rm(bigFile);
    const tenth = join(work, 'orders-0.1x.csv');
    await writeOrdersCsv(tenth, Math.max(1, Math.floor(ROWS / 10)));
    await freshTable('bench_inlet');
    const smallRun = await inlet(tenth, 'bench_inlet');
    line(
      'scale: 1x rows time / 0.1x time (linear = 10)',
      `${fmt(inletSeconds)} s`,
      `${fmt(smallRun.seconds)} s`,
      `${fmt(inletSeconds / smallRun.seconds, 1)}`,
    );
    console.log(`\n# sizes: ${(await stat(file)).size} bytes at 1x`);
  }

  if (wants('long-row')) {
    const rows = await benchLongRow({
      work,
      repeats: REPEATS,
      ingest: async (source) => {
        await freshTable('bench_inlet');
        return inlet(source, 'bench_inlet');
      },
    });
    for (const row of rows) console.log(row);
  }

  if (wants('formats')) {
    const commandRun = await commandIngest({ url, work, table: 'bench_inlet' });
    const rows = await benchFormats({
      work,
      rows: Number(process.env.BENCH_FORMAT_ROWS ?? ROWS),
      repeats: REPEATS,
      ingest: async (source, format) => {
        await freshTable('bench_inlet');
        return inlet(source, 'bench_inlet', 'auto', format);
      },
      command: async (source, format) => {
        await freshTable('bench_inlet');
        return commandRun(source, format);
      },
    });
    for (const row of rows) console.log(row);
  }

  if (wants('server')) {
    // The loads above leave dirty buffers behind: write them out before timing small commits.
    await client.query('CHECKPOINT');
    for (const row of await benchServer({ url, work })) console.log(row);
  }

  if (wants('snapshots')) {
    for (const row of await benchSnapshots({ work })) console.log(row);
  }
  if (wants('sftp')) {
    const pool = new pg.Pool({ connectionString: url, max: 6 });
    try {
      for (const row of await benchSftp({ work, pool, repeats: REPEATS })) console.log(row);
    } finally {
      await pool.end();
    }
  }
} finally {
  await client.end();
  await embedded?.stop();
  await rm(work, { recursive: true, force: true });
}
