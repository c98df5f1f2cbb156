/**
 * The cli section of `npm run bench` (alone: `BENCH_ONLY=cli npm run bench`): the `inlet` command as a
 * user runs it, a whole process from spawn to exit, beside a same-run reference. `inlet --help` beside
 * `node -e 0` (Node's own start); `inlet ingest` of a 1,000-row and of the 1x orders CSV beside
 * `psql \copy` of the same file into an identical fresh table (skipped, and said so, without psql).
 * The CLI is built first (`npm run build`): bin/inlet.cjs (package.json's bin) runs dist/bundle/, or the sources through tsx without a build.
 * BENCH_CLI_RUNS (default 9) sets the runs of the short commands; the 1x file takes the bench's repeats.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ORDERS_COLUMNS, writeOrdersCsv } from './orders-data.js';
import { tableRow } from './table.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/inlet.cjs');
const TABLE = 'bench_cli';
const PSQL_TABLE = 'bench_cli_psql';

export interface CliBenchOptions {
  readonly url: string;
  readonly work: string;
  /** The 1x orders CSV and its row count. */
  readonly file: string;
  readonly rows: number;
  readonly repeats: number;
  readonly freshTable: (name: string) => Promise<void>;
  readonly psqlInstalled: boolean;
  /** `psql \copy` of a CSV into a table, in seconds. */
  readonly psqlCopy: (file: string, table: string) => Promise<number | undefined>;
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

let built: Promise<unknown> | undefined;

/** `npm run build`, once per bench run: every section that runs the command as users do needs the bundle. */
export function buildCli(): Promise<unknown> {
  built ??= run('npm', ['run', 'build', '--silent'], { cwd: ROOT });
  return built;
}

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

/**
 * `inlet ingest` of a CSV or XLSX file of the orders into `public.<table>`, as a whole process from spawn to
 * exit, in seconds: for sections that compare formats as users feel them. Builds the CLI first.
 */
export async function commandIngest(options: {
  url: string;
  work: string;
  table: string;
}): Promise<(file: string, format: 'csv' | 'xlsx') => Promise<number>> {
  await buildCli();
  const config = join(options.work, 'formats.inlet.config.yaml');
  const pipeline = (format: string) => ({
    name: `bench_${format}`,
    format,
    table: `public.${options.table}`,
    columns: ORDERS_COLUMNS,
  });
  await writeFile(config, JSON.stringify({ pipelines: [pipeline('csv'), pipeline('xlsx')] }));
  const env = { ...process.env, DATABASE_URL: options.url, INLET_CONFIG: config, INLET_LOG_LEVEL: 'warn' };
  // --force: the same bytes again are a new ingestion, not a skipped duplicate.
  return (file, format) =>
    seconds(() =>
      run(process.execPath, [BIN, 'ingest', file, '--pipeline', `bench_${format}`, '--force'], { env }),
    );
}

export async function benchCli(options: CliBenchOptions): Promise<string[]> {
  const rows: string[] = ['', '# cli: the inlet command as a whole process, beside the same-run reference'];
  await buildCli();
  const config = join(options.work, 'cli.inlet.config.yaml');
  await writeFile(
    config,
    JSON.stringify({
      pipelines: [{ name: 'bench_cli', format: 'csv', table: `public.${TABLE}`, columns: ORDERS_COLUMNS }],
    }),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: options.url,
    INLET_CONFIG: config,
    INLET_LOG_LEVEL: 'warn',
  };
  const small = join(options.work, 'orders-1000.csv');
  await writeOrdersCsv(small, 1000);
  rows.push(...(await figures(options, env, small, '')));
  // Node reads and parses the certificates NODE_EXTRA_CA_CERTS names at every start, before any of a
  // script runs (about 40 ms of `node -e 0` with Debian's bundle of authorities); psql pays nothing of it.
  // Where it is set the figures are given again without it, for Node's start as most machines have it.
  if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
    const { NODE_EXTRA_CA_CERTS: _, ...withoutExtraCerts } = env;
    rows.push('# the same without NODE_EXTRA_CA_CERTS, which this environment sets (for both Node sides)');
    rows.push(...(await figures(options, withoutExtraCerts, small, ' *')));
  }
  return rows;
}

/** The section's three figures with the commands run in `env`; `mark` ends each label. */
async function figures(
  options: CliBenchOptions,
  env: NodeJS.ProcessEnv,
  small: string,
  mark: string,
): Promise<string[]> {
  const rows: string[] = [];
  // --force: the same bytes again are a new ingestion, not a skipped duplicate.
  const ingest = (file: string) =>
    run(process.execPath, [BIN, 'ingest', file, '--pipeline', 'bench_cli', '--force'], { env });
  const runs = Number(process.env.BENCH_CLI_RUNS ?? 9);

  const help: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(await seconds(() => run(process.execPath, ['-e', '0'], { env })));
    help.push(await seconds(() => run(process.execPath, [BIN, '--help'], { env })));
  }
  const ms = (s: number) => `${fmt(s * 1000, 0)} ms`;
  rows.push(
    tableRow(
      `inlet --help vs node -e 0 (goal <= 1.5x)${mark}`,
      ms(median(help)),
      `node ${ms(median(bare))}`,
      `${fmt(median(help) / median(bare))}x`,
    ),
  );

  const compare = async (file: string, times: number) => {
    const inlet: number[] = [];
    const psql: number[] = [];
    for (let i = 0; i < times; i++) {
      await options.freshTable(TABLE);
      inlet.push(await seconds(() => ingest(file)));
      if (!options.psqlInstalled) continue;
      await options.freshTable(PSQL_TABLE);
      psql.push((await options.psqlCopy(file, PSQL_TABLE)) as number);
    }
    return { inlet: median(inlet), psql: psql.length > 0 ? median(psql) : undefined };
  };

  const thousand = await compare(small, runs);
  rows.push(
    thousand.psql === undefined
      ? tableRow(
          `inlet ingest, 1,000 rows, whole process${mark}`,
          ms(thousand.inlet),
          'psql not installed',
          '-',
        )
      : tableRow(
          `inlet ingest 1,000 rows vs psql (goal <= 3x)${mark}`,
          ms(thousand.inlet),
          `psql \\copy ${ms(thousand.psql)}`,
          `${fmt(thousand.inlet / thousand.psql)}x`,
        ),
  );

  const full = await compare(options.file, options.repeats);
  const rate = (s: number) => `${fmt(options.rows / s / 1e6)} M rows/s`;
  const label = `inlet ingest ${(options.rows / 1e6).toLocaleString('en')}M rows`;
  rows.push(
    full.psql === undefined
      ? tableRow(`${label}, whole process${mark}`, rate(full.inlet), 'psql not installed', '-')
      : tableRow(
          `${label} vs psql (goal >= 1.3x)${mark}`,
          rate(full.inlet),
          rate(full.psql),
          `${fmt(full.psql / full.inlet)}x`,
        ),
  );
  return rows;
}
