/**
 * F9, the local S3 gateway door: the real AWS CLI (`aws s3 cp --recursive`) puts objects into the inbox of
 * the real `inlet dev`, whose gateway hands each new object's event to the handler Lambda runs; `inlet
 * dev` is SIGKILLed at a seeded random point (after some objects were acknowledged, plus a delay: mid-put,
 * mid-load, before an event is handled), and some runs kill the restarted stack again while it replays
 * its outbox. An object is acknowledged when the CLI printed `upload: ... to s3://...` for it. After the
 * last restart, every acknowledged object is loaded exactly once with one final ledger row, an object whose
 * put was cut is loaded once or not at all, and after every kill nothing is in a table by half.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inletArgs, ROOT } from '../../harness/cli.js';
import {
  assertExactlyOnce,
  assertNothingHalfLoaded,
  type CrashFile,
  crashCsv,
  crashSeeds,
  describePlan,
  eachLine,
  exitOf,
  type InletProcess,
  killNow,
  Marks,
  pipelineYaml,
  planKill,
  type Random,
  report,
  seeded,
  startInlet,
  stopGently,
  waitForLoaded,
  waitUntil,
} from '../../harness/crash.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { AWS_BIN, describeWithAwsCli } from '../gateway/aws-cli.js';

const SUITE = 'test/integration/crash/gateway.test.ts';
const BUCKET = 'inlet-inbox';
const credentials = { accessKeyId: 'CRASHSUITEKEY', secretAccessKey: 'crash-suite-secret' };
let db: TestDatabase;
let work: string;

beforeAll(async () => {
  db = await createTestDatabase();
  work = await mkdtemp(join(tmpdir(), 'inlet-crash-gateway-'));
});
afterAll(async () => {
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

function dev(dir: string): Promise<InletProcess> {
  return startInlet(
    inletArgs('dev', '--config', join(dir, 'inlet.config.yaml')),
    {
      ...process.env,
      DATABASE_URL: db.url,
      INLET_DATA_DIR: join(dir, '.inlet'),
      INLET_EXAMPLES: '0',
      INLET_PORT: '0',
      INLET_HOST: '127.0.0.1',
      INLET_S3_PORT: '0',
      INLET_S3_ACCESS_KEY_ID: credentials.accessKeyId,
      INLET_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      INLET_SNAPSHOT_SCHEDULE: 'off',
      INLET_LOG_LEVEL: 'info',
      NO_COLOR: '1',
    },
    /S3 +(http:\/\/\S+)/,
    ROOT,
  );
}

/**
 * `aws s3 cp --recursive <folder> s3://inlet-inbox/`, reporting each `upload: ... to s3://...` line as it
 * comes (unbuffered) with the key the CLI saw acknowledged; one attempt per request, so it gives up quickly
 * once the gateway is gone.
 */
function copyFolder(endpoint: string, folder: string, home: string, onAck: (key: string) => void) {
  const child = spawn(
    AWS_BIN,
    [
      '--endpoint-url',
      endpoint,
      '--region',
      'us-east-1',
      '--no-cli-pager',
      's3',
      'cp',
      '--recursive',
      '--no-progress',
      folder,
      `s3://${BUCKET}/`,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_MAX_ATTEMPTS: '1',
        AWS_PAGER: '',
        PYTHONUNBUFFERED: '1',
      },
    },
  );
  const exited = exitOf(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  eachLine(child.stdout, (line) => {
    const key = new RegExp(`^upload: .* to s3://${BUCKET}/(.+)$`).exec(line)?.[1];
    if (key !== undefined) onAck(key);
  });
  return { child, exited, stderr: () => stderr };
}

async function pendingEvents(dir: string): Promise<number> {
  return readdir(join(dir, '.inlet', 's3', '.events', 'pending')).then(
    (names) => names.filter((n) => n.endsWith('.json')).length,
    () => 0,
  );
}

async function crashRun(random: Random, seed: number): Promise<void> {
  const dir = join(work, `run-${seed}`);
  const folder = join(dir, 'upload');
  const home = join(dir, 'home');
  await mkdir(home, { recursive: true });
  const tables = [`public.crash_gw_a_${seed}`, `public.crash_gw_u_${seed}`];
  const pipelines = [`crash_gw_a_${seed}`, `crash_gw_u_${seed}`];
  await writeFile(
    join(dir, 'inlet.config.yaml'),
    `pipelines:\n${pipelineYaml({ name: pipelines[0] as string, table: tables[0] as string, match: ['a/**'] })}${pipelineYaml(
      { name: pipelines[1] as string, table: tables[1] as string, match: ['u/**'], mode: 'upsert' },
    )}`,
  );
  const count = random.int(4, 7);
  const files: CrashFile[] = [];
  for (let i = 0; i < count; i++) {
    const key = `${random.chance(0.75) ? 'a' : 'u'}/g${i}-${seed}.csv`;
    const rows = random.int(1_000, 6_000);
    await mkdir(join(folder, key, '..'), { recursive: true });
    await writeFile(join(folder, key), crashCsv(key, rows));
    files.push({ uri: `s3://${BUCKET}/${key}`, file: key, rows });
  }
  const check = { pool: db.pool, pipelines, tables, files };
  const plan = planKill(random, count - 1, 400);
  const secondKill = random.chance(0.35) ? random.int(0, 1_500) : undefined;
  const log = [`kill ${describePlan(plan)}`, `second kill ${secondKill ?? 'none'}`];

  const t0 = Date.now();
  const at = () => `${Date.now() - t0} ms`;
  const first = await dev(dir);
  log.push(`started at ${at()}`);
  const acknowledged = new Set<string>();
  const marks = new Marks();
  const copy = copyFolder(first.ready[1] as string, folder, home, (key) => {
    acknowledged.add(`s3://${BUCKET}/${key}`);
    marks.add();
  });
  await Promise.race([marks.reached(plan.afterMarks), copy.exited]);
  await sleep(plan.delayMs);
  await killNow(first);
  // The CLI gives up on what it had not finished; bounded in case it does not.
  const giveUp = setTimeout(() => copy.child.kill('SIGKILL'), 20_000);
  const copied = await copy.exited;
  clearTimeout(giveUp);
  log.push(
    `${acknowledged.size} of ${count} acknowledged (aws exit ${copied.code ?? copied.signal}), killed at ${at()}`,
  );
  await assertNothingHalfLoaded(check);

  let stack = await dev(dir);
  if (secondKill !== undefined) {
    // Killed again while it replays what the first run left in its outbox.
    await sleep(secondKill);
    await killNow(stack);
    await assertNothingHalfLoaded(check);
    stack = await dev(dir);
  }
  log.push(`restarted at ${at()}`);
  try {
    const missing = await waitForLoaded(db.pool, pipelines, acknowledged, 20_000);
    expect(missing, `acknowledged objects not loaded after the restart (${log.join('; ')})`).toEqual([]);
    // Events of objects stored but not acknowledged are handled too, so the counts below are final.
    expect(await waitUntil(async () => (await pendingEvents(dir)) === 0, 20_000), 'outbox drained').toBe(
      true,
    );
  } finally {
    const exit = await stopGently(stack);
    expect(exit.code, stack.stderr()).toBe(0);
  }
  log.push(`stopped at ${at()}`);
  report(seed, log);
  await assertExactlyOnce({ ...check, acknowledged });
}

describeWithAwsCli('F9 crash suite: the local S3 gateway (inlet dev, AWS CLI)', () => {
  it.each(crashSeeds(5))(
    'kill -9 mid-put and mid-load, restart: every acknowledged object exactly once (seed %i)',
    (seed) => seeded(SUITE, seed, (random) => crashRun(random, seed)),
    120_000,
  );
});
