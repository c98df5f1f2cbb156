/**
 * F9, the upload API door: clients upload many small files at once to the real `inlet serve`, some bodies
 * sent in slow pieces, and the server is SIGKILLed at a seeded random point (after some 202s plus a delay:
 * mid-upload, mid-load, between the two); some runs kill the restarted server again while it drains what
 * the first one spooled. A file is acknowledged when it got a 202. After the last restart has drained the
 * spool, every acknowledged file is loaded exactly once with one final ledger row, and a file whose upload
 * was cut is loaded once or not at all; after every kill nothing is in a table by half.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inletArgs, ROOT } from '../../harness/cli.js';
import {
  assertExactlyOnce,
  assertNothingHalfLoaded,
  type CrashFile,
  crashCsv,
  crashSeeds,
  describePlan,
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

const SUITE = 'test/integration/crash/upload-api.test.ts';
const TOKEN = 'crash-suite-token';
let db: TestDatabase;
let work: string;

beforeAll(async () => {
  db = await createTestDatabase();
  work = await mkdtemp(join(tmpdir(), 'inlet-crash-api-'));
});
afterAll(async () => {
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

function serve(dir: string): Promise<InletProcess> {
  return startInlet(
    inletArgs('serve', '--config', join(dir, 'inlet.config.yaml')),
    {
      ...process.env,
      DATABASE_URL: db.url,
      INLET_DATA_DIR: join(dir, '.inlet'),
      INLET_PORT: '0',
      INLET_SFTP_PORT: '0',
      INLET_HOST: '127.0.0.1',
      INLET_API_TOKEN: TOKEN,
      INLET_SPOOL_DIR: join(dir, 'spool'),
      INLET_SPOOL_MIN_FREE_MB: '0',
      INLET_LOG_LEVEL: 'warn',
      INLET_SNAPSHOT_SCHEDULE: 'off',
    },
    /on (http:\/\/\S+)/,
    ROOT,
  );
}

/** The body in `pieces` parts `gapMs` apart, so a kill can land while it is being sent. */
function slowBody(text: string, pieces: number, gapMs: number): ReadableStream<Uint8Array> {
  const bytes = Buffer.from(text);
  const size = Math.ceil(bytes.length / pieces);
  let offset = 0;
  return new ReadableStream({
    async pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      if (offset > 0) await sleep(gapMs);
      controller.enqueue(new Uint8Array(bytes.subarray(offset, offset + size)));
      offset += size;
    },
  });
}

async function pending(spool: string): Promise<number> {
  let total = 0;
  for (const state of ['incoming', 'processing']) {
    total += await readdir(join(spool, state)).then(
      (names) => names.length,
      () => 0,
    );
  }
  return total;
}

async function crashRun(random: Random, seed: number): Promise<void> {
  const dir = join(work, `run-${seed}`);
  await mkdir(dir, { recursive: true });
  const tables = [`public.crash_api_a_${seed}`, `public.crash_api_u_${seed}`];
  const pipelines = [`crash_api_a_${seed}`, `crash_api_u_${seed}`];
  await writeFile(
    join(dir, 'inlet.config.yaml'),
    `pipelines:\n${pipelineYaml({ name: pipelines[0] as string, table: tables[0] as string, match: ['*.a.csv'] })}${pipelineYaml(
      { name: pipelines[1] as string, table: tables[1] as string, match: ['*.u.csv'], mode: 'upsert' },
    )}`,
  );
  const count = random.int(10, 18);
  const uploads = Array.from({ length: count }, (_, i) => {
    const name = `p${i}-${seed}.${random.chance(0.75) ? 'a' : 'u'}.csv`;
    const rows = random.int(100, 3_000);
    // A third of the bodies arrive in slow pieces: the kill can cut them mid-upload.
    const slow = random.chance(0.33) ? { pieces: random.int(2, 5), gapMs: random.int(10, 60) } : undefined;
    return { name, rows, text: crashCsv(name, rows), slow };
  });
  const files: CrashFile[] = uploads.map((u) => ({ uri: `upload:///${u.name}`, file: u.name, rows: u.rows }));
  const check = { pool: db.pool, pipelines, tables, files };
  const plan = planKill(random, Math.floor(count / 2), 400);
  const secondKill = random.chance(0.35) ? random.int(0, 1_500) : undefined;
  const log = [`kill ${describePlan(plan)}`, `second kill ${secondKill ?? 'none'}`];

  const first = await serve(dir);
  const url = first.ready[1] as string;
  const marks = new Marks();
  const acknowledged = new Set<string>();
  let next = 0;
  // Four clients, each sending files one after another, as a batch uploader would.
  const client = async () => {
    for (let i = next++; i < uploads.length; i = next++) {
      const upload = uploads[i] as (typeof uploads)[number];
      try {
        const answer = await fetch(`${url}/v1/files/${upload.name}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${TOKEN}` },
          body: upload.slow ? slowBody(upload.text, upload.slow.pieces, upload.slow.gapMs) : upload.text,
          duplex: 'half',
        } as RequestInit);
        if (answer.status === 202) {
          // The status line is the acknowledgement, whether or not the kill lets the body through.
          acknowledged.add(`upload:///${upload.name}`);
          marks.add();
          await answer.body?.cancel().catch(() => undefined);
        } else {
          expect.fail(`${upload.name}: ${answer.status} ${await answer.text()}`);
        }
      } catch (error) {
        // Cut off by the kill: never acknowledged, so the client would send it again some day.
        if ((error as Error).name === 'AssertionError') throw error;
      }
    }
  };
  const clients = Promise.all(Array.from({ length: 4 }, client));
  await Promise.race([marks.reached(plan.afterMarks), clients]);
  await sleep(plan.delayMs);
  await killNow(first);
  await clients;
  log.push(`${acknowledged.size} of ${count} acknowledged`);
  await assertNothingHalfLoaded(check);

  let server = await serve(dir);
  if (secondKill !== undefined) {
    // Killed again while it loads what the first run spooled.
    await sleep(secondKill);
    await killNow(server);
    await assertNothingHalfLoaded(check);
    server = await serve(dir);
  }
  try {
    const missing = await waitForLoaded(db.pool, pipelines, acknowledged, 30_000);
    expect(missing, `acknowledged uploads not loaded after the restart (${log.join('; ')})`).toEqual([]);
    // What was stored but not acknowledged drains too, so the counts below are final.
    expect(
      await waitUntil(async () => (await pending(join(dir, 'spool'))) === 0, 30_000),
      'spool drained',
    ).toBe(true);
  } finally {
    const exit = await stopGently(server);
    expect(exit.code, server.stderr()).toBe(0);
  }
  report(seed, log);
  await assertExactlyOnce({ ...check, acknowledged });
}

describe('F9 crash suite: the upload API', () => {
  it.each(crashSeeds(5))(
    'kill -9 mid-upload and mid-load, restart: every 202 exactly once (seed %i)',
    (seed) => seeded(SUITE, seed, (random) => crashRun(random, seed)),
    120_000,
  );
});
