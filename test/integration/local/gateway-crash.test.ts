/**
 * `inlet dev`'s S3 door under kill -9: the AWS CLI puts an object into the inbox, the stack is killed at a
 * random moment while the event is delivered or loaded, and started again on the same data directory.
 * Every acknowledged object must end with exactly one final ledger row and its rows loaded exactly once.
 * The seed is in the test's name; INLET_CRASH_SEED=<seed> replays its kill delays, and INLET_TEST_KEEP=1
 * keeps the data directories and the stacks' logs (run-N.log).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { awsCli, describeWithAwsCli } from '../gateway/aws-cli.js';

const SEED = Number(process.env.INLET_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = 3;
const ROWS = 60_000;
/** Kills land this long after the CLI's acknowledgement at most: within the delivery and the load. */
const MAX_KILL_DELAY_MS = 400;
const credentials = { accessKeyId: 'crash-test', secretAccessKey: 'crash-test-secret' };

/** mulberry32: small, seedable, good enough to spread kill times. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let work: string;
let db: TestDatabase;
const children = new Set<ChildProcess>();

async function startStack(
  dataDir: string,
  table: string,
): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/harness/local-s3-child.ts', dataDir, db.url, table],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        INLET_S3_PORT: '0',
        INLET_S3_ACCESS_KEY_ID: credentials.accessKeyId,
        INLET_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        INLET_INBOX_BUCKET: 'inlet-inbox',
      },
    },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  // Logs go beside the data directory (kept with INLET_TEST_KEEP=1), and the pipe never fills up.
  child.stderr?.pipe(createWriteStream(`${dataDir}.log`, { flags: 'a' }));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const first = once(lines, 'line') as Promise<[string]>;
  const timeout = sleep(20_000).then(() => {
    throw new Error('the local S3 stack did not start within 20 s');
  });
  const [endpoint] = await Promise.race([first, timeout]);
  return { child, endpoint };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

async function finalRows(table: string): Promise<Array<{ status: string; rows_loaded: number }>> {
  const { rows } = await db.pool.query<{ status: string; rows_loaded: number }>(
    `SELECT status, rows_loaded::int FROM inlet.ingestions
      WHERE target_table = $1 AND status NOT IN ('processing', 'queued')`,
    [`public.${table}`],
  );
  return rows;
}

/** Puts the file, kills the stack `delay` ms after the acknowledgement, restarts it, and checks the ledger. */
async function crashAndRecover(run: number, delay: number, file: string): Promise<void> {
  const table = `crash_${run}`;
  const dataDir = join(work, `run-${run}`);
  const context = `seed ${SEED}, run ${run}, kill ${delay} ms after the put`;

  const first = await startStack(dataDir, table);
  const cli = { endpoint: first.endpoint, credentials, home: join(work, 'home') };
  await awsCli(cli, ['s3', 'cp', file, `s3://inlet-inbox/orders-${run}.csv`]);
  await sleep(delay);
  await kill(first.child);

  const second = await startStack(dataDir, table);
  const deadline = Date.now() + 15_000;
  let rows = await finalRows(table);
  while (rows.length === 0 && Date.now() < deadline) {
    await sleep(100);
    rows = await finalRows(table);
  }
  // A second delivery, if one were coming, would add a row: give it a moment before counting.
  await sleep(300);
  rows = await finalRows(table);
  await kill(second.child);

  expect(rows, context).toEqual([{ status: 'loaded', rows_loaded: ROWS }]);
  const { rows: counted } = await db.pool.query<{ n: number; ids: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM public.${table}`,
  );
  expect(counted[0], context).toEqual({ n: ROWS, ids: ROWS });
}

describeWithAwsCli(`local S3 gateway under kill -9 (seed ${SEED})`, () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'inlet-gateway-crash-'));
    await chmod(work, 0o755);
    await mkdir(join(work, 'home'));
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const child of children) await kill(child);
    await db?.drop();
    if (!process.env.INLET_TEST_KEEP) await rm(work, { recursive: true, force: true });
  });

  it(`loads every acknowledged object exactly once across SIGKILL and restart (seed ${SEED})`, async () => {
    const next = random(SEED);
    const file = join(work, 'orders.csv');
    const lines = ['id,payload'];
    for (let i = 1; i <= ROWS; i++) lines.push(`${i},row ${i} of a file large enough to take a while`);
    await writeFile(file, `${lines.join('\n')}\n`);

    // The runs are independent (own data directory, table and key) and run side by side to bound the time;
    // each draws its kill delay from the seed up front, so a seed names the same delays.
    const delays = Array.from({ length: RUNS }, () => Math.floor(next() * MAX_KILL_DELAY_MS));
    await Promise.all(delays.map((delay, i) => crashAndRecover(i + 1, delay, file)));
  }, 90_000);
});
