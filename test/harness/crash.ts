/**
 * The crash suite's shared parts (fault F9): seeded runs, SIGKILL scheduling, and the exactly-once
 * assertions every door is held to after a kill and a restart.
 *
 * Seeds: each run draws a fresh seed, named in the test's title and printed on failure with the command
 * that replays it. `INLET_CRASH_SEED=<n>` runs that one seed; `INLET_CRASH_RUNS=<n>` runs n seeds per door
 * instead of the default. The seed drives every random choice a run makes (file sizes, which files, when
 * to kill); the kill's exact instant still depends on the machine, so a replay retraces the same plan,
 * not necessarily the same nanosecond.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { expect, inject } from 'vitest';

/** The seeds of this run of a door's suite: INLET_CRASH_SEED alone, or INLET_CRASH_RUNS (default `runs`) fresh ones. */
export function crashSeeds(runs: number): number[] {
  const fixed = process.env.INLET_CRASH_SEED?.trim();
  if (fixed) {
    const seed = Number(fixed);
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new Error(`INLET_CRASH_SEED must be a whole number: ${fixed}`);
    return [seed];
  }
  const wanted = process.env.INLET_CRASH_RUNS?.trim();
  const count = wanted ? Number(wanted) : runs;
  if (!Number.isSafeInteger(count) || count < 1)
    throw new Error(`INLET_CRASH_RUNS must be 1 or more: ${wanted}`);
  return Array.from({ length: count }, () => randomInt(1, 2 ** 31 - 1));
}

/** A small seeded PRNG (mulberry32): the same seed makes the same choices. */
export class Random {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  /** In [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** A whole number in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }
}

/**
 * Runs one seeded crash run; on failure prints (and adds to the error) the line that replays it.
 * `testFile` is the suite's path from the repository root.
 */
export async function seeded(testFile: string, seed: number, run: (random: Random) => Promise<void>) {
  try {
    await run(new Random(seed));
  } catch (error) {
    const replay = `INLET_CRASH_SEED=${seed} npx vitest run ${testFile}`;
    console.error(`crash run failed with seed ${seed}; replay: ${replay}`);
    if (error instanceof Error) error.message = `${error.message}\n(seed ${seed}; replay: ${replay})`;
    throw error;
  }
}

/** How a child ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The child's exit, as a promise taken right after spawn so the event cannot be missed. */
export function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Calls `onLine` for each complete line of `stream`. */
export function eachLine(stream: Readable | null | undefined, onLine: (line: string) => void): void {
  let rest = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    rest += chunk;
    let end = rest.indexOf('\n');
    while (end !== -1) {
      onLine(rest.slice(0, end).replace(/\r$/, ''));
      rest = rest.slice(end + 1);
      end = rest.indexOf('\n');
    }
  });
}

/** A count of acknowledgements (or any progress marks) a kill can be timed against. */
export class Marks {
  count = 0;
  private waiters: { at: number; resolve: () => void }[] = [];
  add(): void {
    this.count++;
    for (const waiter of this.waiters.filter((w) => this.count >= w.at)) waiter.resolve();
    this.waiters = this.waiters.filter((w) => this.count < w.at);
  }
  reached(at: number): Promise<void> {
    if (this.count >= at) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ at, resolve }));
  }
}

/**
 * When to kill: once `afterMarks` marks have been seen (0: from the start), `delayMs` later. Anchoring on
 * marks lands kills in the windows that matter (between an acknowledgement and the load that follows)
 * far more often than a bare delay from the start would.
 */
export interface KillPlan {
  afterMarks: number;
  delayMs: number;
}

export function planKill(random: Random, maxMarks: number, maxDelayMs: number): KillPlan {
  return { afterMarks: random.int(0, maxMarks), delayMs: random.int(0, maxDelayMs) };
}

export function describePlan(plan: KillPlan): string {
  return `after ${plan.afterMarks} marks + ${plan.delayMs} ms`;
}

/**
 * SIGKILLs `child` as `plan` says, unless it exits first or `limitMs` passes without the marks (then it is
 * killed at that point). Resolves with whether the kill happened and how the child ended.
 */
export async function killPerPlan(
  child: ChildProcess,
  exited: Promise<Exit>,
  marks: Marks,
  plan: KillPlan,
  limitMs = 30_000,
): Promise<{ killed: boolean; exit: Exit; marksAtKill: number }> {
  let done = false;
  void exited.then(() => {
    done = true;
  });
  await Promise.race([marks.reached(plan.afterMarks), exited, sleep(limitMs)]);
  if (!done && plan.delayMs > 0) await Promise.race([exited, sleep(plan.delayMs)]);
  const marksAtKill = marks.count;
  const killed = !done && child.kill('SIGKILL');
  return { killed, exit: await exited, marksAtKill };
}

// ---------------------------------------------------------------------------------------------------
// Files and tables: every door loads CSV files `file,n,pad` where `file` names the file and n = 1..rows,
// so a file loaded twice, or half, shows in the table.

export const CRASH_COLUMNS_YAML = [
  '      - { name: file, type: text, nullable: false }',
  '      - { name: n, type: integer, nullable: false }',
  '      - { name: pad, type: text }',
];

/** One pipeline of a crash suite's config, in YAML (indented for a `pipelines:` list). */
export function pipelineYaml(options: {
  name: string;
  table: string;
  match: string[];
  mode?: 'append' | 'upsert';
}): string {
  const mode = options.mode ?? 'append';
  return [
    `  - name: ${options.name}`,
    `    match: ${JSON.stringify(options.match)}`,
    '    format: csv',
    `    table: ${options.table}`,
    '    createTable: true',
    `    mode: ${mode}`,
    ...(mode === 'upsert' ? ['    key: [file, n]'] : []),
    '    columns:',
    ...CRASH_COLUMNS_YAML,
    '',
  ].join('\n');
}

/** A CSV file whose rows say which file they came from; `padBytes` per row makes it larger. */
export function crashCsv(file: string, rows: number, padBytes = 40): string {
  const pad = 'x'.repeat(padBytes);
  const lines = ['file,n,pad'];
  for (let n = 1; n <= rows; n++) lines.push(`${file},${n},${pad}`);
  return `${lines.join('\n')}\n`;
}

/** A file a door was given: its ledger URI, the value of its `file` column and its row count. */
export interface CrashFile {
  uri: string;
  file: string;
  rows: number;
}

export interface ExactlyOnceCheck {
  pool: pg.Pool;
  /** The pipelines whose ledger rows are checked (all of their rows must belong to `files`). */
  pipelines: readonly string[];
  /** Tables (`schema.name`) holding the pipelines' rows; a missing table counts as empty. */
  tables: readonly string[];
  /** Every file the door was given, acknowledged or not. */
  files: readonly CrashFile[];
  /** URIs of the files the door acknowledged: each must be loaded, once. */
  acknowledged: ReadonlySet<string>;
  /** URIs that may also have `failed` ledger rows from attempts before the one that loaded (retried failures). */
  mayHaveFailedAttempts?: ReadonlySet<string>;
}

interface LedgerRow {
  id: string;
  pipeline: string;
  source_uri: string;
  status: string;
  forced: boolean;
  rows_loaded: string;
  duplicate_of: string | null;
}

/** Rows per `file` value across `tables`: how many, and how many distinct n. */
async function tableCounts(
  pool: pg.Pool,
  tables: readonly string[],
): Promise<Map<string, { rows: number; distinct: number }>> {
  const counts = new Map<string, { rows: number; distinct: number }>();
  for (const table of tables) {
    const { rows: exists } = await pool.query<{ present: boolean }>(
      'SELECT to_regclass($1) IS NOT NULL AS present',
      [table],
    );
    if (!exists[0]?.present) continue;
    const { rows } = await pool.query<{ file: string; n: number; d: number }>(
      `SELECT file, count(*)::int AS n, count(DISTINCT n)::int AS d FROM ${table} GROUP BY file`,
    );
    for (const row of rows) {
      const before = counts.get(row.file) ?? { rows: 0, distinct: 0 };
      counts.set(row.file, { rows: before.rows + row.n, distinct: before.distinct + row.d });
    }
  }
  return counts;
}

/**
 * Right after a kill, before any restart: no file is in a table partly or twice, and the ledger has no
 * `loaded` row without its rows. (A commit the dead process had already sent may still land; it lands whole.)
 */
export async function assertNothingHalfLoaded(
  check: Pick<ExactlyOnceCheck, 'pool' | 'tables' | 'files'>,
): Promise<void> {
  const byFile = new Map(check.files.map((f) => [f.file, f]));
  for (const [file, count] of await tableCounts(check.pool, check.tables)) {
    const expected = byFile.get(file);
    expect(expected, `rows of an unknown file ${file}`).toBeDefined();
    expect(count, `${file}: all of its rows, once each, or none`).toEqual({
      rows: expected?.rows,
      distinct: expected?.rows,
    });
  }
}

/**
 * After recovery: every acknowledged file has exactly one ledger row, `loaded`, with its rows in the table
 * exactly once; a file not acknowledged is loaded once or not at all (never half, never twice); no ledger
 * row is left `queued` or `processing`; no ledger row or table row belongs to a file the door was not given;
 * no staging table or open transaction is left behind.
 */
export async function assertExactlyOnce(check: ExactlyOnceCheck): Promise<void> {
  const { pool } = check;
  const byUri = new Map(check.files.map((f) => [f.uri, f]));
  const byFile = new Map(check.files.map((f) => [f.file, f]));
  const counts = await tableCounts(pool, check.tables);
  for (const [file, count] of counts) {
    const expected = byFile.get(file);
    expect(expected, `rows of an unknown file ${file}`).toBeDefined();
    expect(count, `${file}: all of its rows, once each, or none`).toEqual({
      rows: expected?.rows,
      distinct: expected?.rows,
    });
  }
  const { rows: ledger } = await pool.query<LedgerRow>(
    `SELECT id, pipeline, source_uri, status, forced, rows_loaded, duplicate_of
       FROM inlet.ingestions WHERE pipeline = ANY($1) ORDER BY started_at NULLS FIRST`,
    [check.pipelines],
  );
  const unfinished = ledger.filter((row) => row.status === 'queued' || row.status === 'processing');
  expect(unfinished, 'ledger rows left unfinished after recovery').toEqual([]);
  const rowsByUri = new Map<string, LedgerRow[]>();
  for (const row of ledger) {
    expect(byUri.has(row.source_uri), `a ledger row for an unknown source ${row.source_uri}`).toBe(true);
    rowsByUri.set(row.source_uri, [...(rowsByUri.get(row.source_uri) ?? []), row]);
  }
  for (const file of check.files) {
    const rows = rowsByUri.get(file.uri) ?? [];
    const loaded = rows.filter((row) => row.status === 'loaded');
    const inTable = counts.get(file.file)?.rows ?? 0;
    const failedAllowed = check.mayHaveFailedAttempts?.has(file.uri) === true;
    const others = rows.filter(
      (row) => row.status !== 'loaded' && !(failedAllowed && row.status === 'failed'),
    );
    const summary = rows.map((row) => `${row.status}:${row.rows_loaded}`).join(', ') || 'no ledger row';
    if (check.acknowledged.has(file.uri)) {
      expect(loaded.length, `${file.uri} was acknowledged: one loaded ledger row (${summary})`).toBe(1);
      expect(others, `${file.uri}: no other ledger row (${summary})`).toEqual([]);
      expect(inTable, `${file.uri} was acknowledged: its rows once`).toBe(file.rows);
    } else {
      // Not acknowledged (cut off by the kill): loaded once, or not at all.
      expect(loaded.length, `${file.uri}: at most one loaded ledger row (${summary})`).toBeLessThanOrEqual(1);
      expect(others, `${file.uri}: no other ledger row (${summary})`).toEqual([]);
      expect(inTable, `${file.uri}: rows once if loaded, none if not`).toBe(
        loaded.length === 1 ? file.rows : 0,
      );
    }
    for (const row of loaded) {
      expect(row.forced, `${file.uri}: not a forced reload`).toBe(false);
      expect(Number(row.rows_loaded), `${file.uri}: the ledger's row count`).toBe(file.rows);
    }
  }
  await assertNoLeftovers(pool);
}

/**
 * Once every other session on the database has ended (killed processes' backends notice their dead socket),
 * no staging table and no open transaction remain.
 */
export async function assertNoLeftovers(pool: pg.Pool, waitMs = 15_000): Promise<void> {
  const others = async () =>
    (
      await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
            AND (state LIKE 'idle in transaction%' OR state = 'active' OR backend_xid IS NOT NULL)`,
      )
    ).rows[0]?.n ?? 0;
  const deadline = Date.now() + waitMs;
  while ((await others()) > 0 && Date.now() < deadline) await sleep(50);
  expect(await others(), 'sessions still inside a transaction').toBe(0);
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_class WHERE relname = 'inlet_staging'`,
  );
  expect(rows[0]?.n, 'staging tables left behind').toBe(0);
}

/** Polls `probe` every `everyMs` until it returns true or `timeoutMs` passes; returns its last answer. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/** A long-running `inlet` command (serve, dev) started for a crash test. */
export interface InletProcess {
  child: ChildProcess;
  exited: Promise<Exit>;
  /** The first match of the ready pattern in stdout. */
  ready: RegExpExecArray;
  /** Everything it wrote to stderr so far (its logs). */
  stderr(): string;
}

/**
 * Starts `inlet <args>` (the run's transpiled CLI) and resolves once its stdout matches `readyPattern`.
 * `inletArgs` comes from test/harness/cli.ts (it needs vitest's injected context).
 */
export async function startInlet(
  argv: string[],
  env: NodeJS.ProcessEnv,
  readyPattern: RegExp,
  cwd: string,
  timeoutMs = 30_000,
): Promise<InletProcess> {
  const child = spawn(process.execPath, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = exitOf(child);
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    // Bounded: a long run keeps the tail, which is what explains a failure.
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`inlet ${argv.slice(1).join(' ')} did not start in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = readyPattern.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(
        new Error(
          `inlet ${argv.slice(1).join(' ')} exited (${exit.code ?? exit.signal}) before it was ready: ${stderr}`,
        ),
      );
    });
  });
  return { child, exited, ready, stderr: () => stderr };
}

/** SIGKILL, and wait for the process to be gone. */
export async function killNow(proc: { child: ChildProcess; exited: Promise<Exit> }): Promise<void> {
  proc.child.kill('SIGKILL');
  await proc.exited;
}

/** SIGTERM, then SIGKILL if it has not stopped in `graceMs`; resolves with how it ended. */
export async function stopGently(
  proc: { child: ChildProcess; exited: Promise<Exit> },
  graceMs = 15_000,
): Promise<Exit> {
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  try {
    return await proc.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** With INLET_CRASH_VERBOSE=1, prints what a run did (its kills, what was acknowledged). */
export function report(seed: number, lines: readonly string[]): void {
  if (process.env.INLET_CRASH_VERBOSE === '1') console.log(`seed ${seed}: ${lines.join('; ')}`);
}

/** Waits up to `timeoutMs` for a `loaded` ledger row of each URI; returns the URIs still without one. */
export async function waitForLoaded(
  pool: pg.Pool,
  pipelines: readonly string[],
  uris: ReadonlySet<string>,
  timeoutMs: number,
): Promise<string[]> {
  let missing = [...uris];
  await waitUntil(async () => {
    const { rows } = await pool.query<{ source_uri: string }>(
      `SELECT DISTINCT source_uri FROM inlet.ingestions
        WHERE pipeline = ANY($1) AND source_uri = ANY($2) AND status = 'loaded'`,
      [pipelines, missing],
    );
    const loaded = new Set(rows.map((row) => row.source_uri));
    missing = missing.filter((uri) => !loaded.has(uri));
    return missing.length === 0;
  }, timeoutMs);
  return missing.sort();
}

/**
 * A child harness (a .ts file under test/harness/) bundled once into the run's transpiled tree, so each
 * process starts with plain `node` in about half the CPU time `--import tsx` takes; packages still load from
 * the repository's node_modules. Returns the path to run.
 */
export async function bundleChild(entry: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(
    dirname(dirname(inject('cliEntry'))),
    'crash-children',
    `${entry.replace(/\W+/g, '-')}.mjs`,
  );
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  return outfile;
}
