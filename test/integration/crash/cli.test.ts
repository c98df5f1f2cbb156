/**
 * F9, the CLI door: `inlet ingest <files> --json` is SIGKILLed at seeded random points while it loads
 * several files, run again the same way (up to two kills), then once more to the end. A file is
 * acknowledged when the CLI printed its outcome or exited 0. Afterwards every file is loaded exactly once
 * (an append table would show a second load), and after every kill nothing is in a table by half.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inletArgs, ROOT } from '../../harness/cli.js';
import { cliWorkspace } from '../../harness/cli-workspace.js';
import {
  assertExactlyOnce,
  assertNothingHalfLoaded,
  type CrashFile,
  crashCsv,
  crashSeeds,
  describePlan,
  eachLine,
  exitOf,
  Marks,
  pipelineYaml,
  planKill,
  type Random,
  report,
  seeded,
} from '../../harness/crash.js';

const SUITE = 'test/integration/crash/cli.test.ts';
const workspace = cliWorkspace('inlet-crash-cli-');

interface Attempt {
  killed: boolean;
  code: number | null;
  /** URIs of the files whose outcome (loaded or duplicate) the CLI printed. */
  acknowledged: string[];
  stderr: string;
}

/** One `inlet ingest --json` of `paths`; killed as `plan` says unless `plan` is undefined. */
async function attempt(args: string[], plan: ReturnType<typeof planKill> | undefined): Promise<Attempt> {
  const child = spawn(process.execPath, inletArgs(...args), {
    cwd: ROOT,
    env: workspace.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = exitOf(child);
  const marks = new Marks();
  const acknowledged: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  eachLine(child.stdout, (line) => {
    const result = JSON.parse(line) as { source?: string; status?: string };
    if ((result.status === 'loaded' || result.status === 'duplicate') && result.source) {
      acknowledged.push(result.source);
    }
    marks.add();
  });
  let killed = false;
  if (plan !== undefined) {
    await Promise.race([marks.reached(plan.afterMarks), exited]);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, plan.delayMs))]);
    killed = child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  }
  const exit = await exited;
  return { killed, code: exit.code, acknowledged, stderr };
}

async function crashRun(random: Random, seed: number): Promise<void> {
  const dir = join(workspace.dir, `run-${seed}`);
  await mkdir(dir, { recursive: true });
  const appendTable = `public.crash_cli_a_${seed}`;
  const upsertTable = `public.crash_cli_u_${seed}`;
  const pipelines = [`crash_cli_a_${seed}`, `crash_cli_u_${seed}`];
  await writeFile(
    join(dir, 'inlet.config.yaml'),
    `pipelines:\n${pipelineYaml({ name: pipelines[0] as string, table: appendTable, match: ['*.a.csv'] })}${pipelineYaml(
      { name: pipelines[1] as string, table: upsertTable, match: ['*.u.csv'], mode: 'upsert' },
    )}`,
  );
  const files: CrashFile[] = [];
  const paths: string[] = [];
  const count = random.int(3, 5);
  for (let i = 0; i < count; i++) {
    // Mostly append (a double load shows as doubled rows); upsert goes through a staging table.
    const name = `f${i}-${seed}.${random.chance(0.75) ? 'a' : 'u'}.csv`;
    const rows = random.int(1_000, 8_000);
    const path = join(dir, name);
    await writeFile(path, crashCsv(name, rows));
    paths.push(path);
    files.push({ uri: pathToFileURL(path).href, file: name, rows });
  }
  const args = ['ingest', ...paths, '--config', join(dir, 'inlet.config.yaml'), '--json'];
  const check = { pool: workspace.db.pool, pipelines, tables: [appendTable, upsertTable], files };
  const acknowledged = new Set<string>();
  const kills = random.int(1, 2);
  const t0 = Date.now();
  const log: string[] = [];
  for (let k = 0; k < kills; k++) {
    const plan = planKill(random, count - 1, 300);
    const run = await attempt(args, plan);
    log.push(
      `at ${Date.now() - t0} ms, kill ${describePlan(plan)}: ${run.killed ? 'killed' : `exited ${run.code}`}, ${run.acknowledged.length} acknowledged`,
    );
    for (const uri of run.acknowledged) acknowledged.add(uri);
    if (!run.killed) expect(run.code, run.stderr).toBe(0);
    await assertNothingHalfLoaded(check);
  }
  const last = await attempt(args, undefined);
  expect(last.code, `${log.join('; ')}\n${last.stderr}`).toBe(0);
  // Exit 0 acknowledges every file; each printed outcome is loaded or duplicate.
  expect(new Set(last.acknowledged)).toEqual(new Set(files.map((f) => f.uri)));
  for (const file of files) acknowledged.add(file.uri);
  report(seed, log);
  await assertExactlyOnce({ ...check, acknowledged });
}

describe('F9 crash suite: the CLI', () => {
  it.each(crashSeeds(6))(
    'kill -9 mid-load, rerun: every file exactly once (seed %i)',
    (seed) => seeded(SUITE, seed, (random) => crashRun(random, seed)),
    120_000,
  );
});
