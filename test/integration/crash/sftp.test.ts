/**
 * F9, the SFTP door: four partner connections put many small files into the real `inlet serve` over SFTP
 * (ssh2's client, the host key pinned), and the server is SIGKILLed at a seeded random point (after some
 * acknowledged CLOSEs plus a delay: mid-put, mid-load, between the two). A file is acknowledged when its
 * CLOSE was answered OK. After the restart has drained the spool, every acknowledged file is loaded exactly
 * once under `sftp://<user>/inbound/<pipeline>/<name>`, a file whose put was cut is loaded once or not at
 * all, nothing is in a table by half after the kill, and the restarted server presents the same host key.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/db/migrate.js';
import { fingerprintOf } from '../../../src/server/sftp/keys.js';
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
import { addSftpUser, type KeyPair, sftpWorkspace } from '../../harness/sftp.js';

const SUITE = 'test/integration/crash/sftp.test.ts';
const USER = 'partner';
const keys = sftpWorkspace('inlet-crash-sftp-keys-');
let db: TestDatabase;
let work: string;
let key: KeyPair;

beforeAll(async () => {
  db = await createTestDatabase();
  work = await mkdtemp(join(tmpdir(), 'inlet-crash-sftp-'));
  await migrate(db.pool);
  key = keys.keygen('partner_ed25519');
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
      INLET_API_TOKEN: 'crash-sftp-token',
      INLET_SPOOL_DIR: join(dir, 'spool'),
      INLET_SPOOL_MIN_FREE_MB: '0',
      INLET_LOG_LEVEL: 'warn',
      INLET_SNAPSHOT_SCHEDULE: 'off',
    },
    /SFTP door on [^\s]+:(\d+), host key ED25519 (SHA256:\S+)/,
    ROOT,
  );
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

/** An SFTP session of the partner, the server's host key checked against `fingerprint`. */
function connect(
  port: number,
  fingerprint: string,
): Promise<{ client: ssh2.Client; sftp: ssh2.SFTPWrapper; closed: Promise<never> }> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    // A kill can end the connection at any step, with or without an error: every wait below races this.
    const closed = new Promise<never>((_resolve, fail) =>
      client.once('close', () => fail(new Error('the connection closed'))),
    );
    closed.catch(reject);
    client.once('error', reject);
    client.once('ready', () =>
      client.sftp((error, sftp) => (error ? reject(error) : resolve({ client, sftp, closed }))),
    );
    client.connect({
      host: '127.0.0.1',
      port,
      username: USER,
      privateKey: key.privateKey,
      readyTimeout: 20_000,
      hostVerifier: (hostKey: Buffer) => fingerprintOf(hostKey) === fingerprint,
    });
  });
}

async function crashRun(random: Random, seed: number): Promise<void> {
  const dir = join(work, `run-${seed}`);
  await mkdir(dir, { recursive: true });
  const tables = [`public.crash_sftp_a_${seed}`, `public.crash_sftp_u_${seed}`];
  const pipelines = [`crash_sftp_a_${seed}`, `crash_sftp_u_${seed}`] as const;
  await writeFile(
    join(dir, 'inlet.config.yaml'),
    `pipelines:\n${pipelineYaml({ name: pipelines[0], table: tables[0] as string, match: ['*.a.csv'] })}${pipelineYaml(
      { name: pipelines[1], table: tables[1] as string, match: ['*.u.csv'], mode: 'upsert' },
    )}`,
  );
  await db.pool.query('DELETE FROM inlet.sftp_users WHERE name = $1', [USER]);
  await addSftpUser(db.pool, USER, pipelines, [key]);
  const count = random.int(10, 18);
  const puts = Array.from({ length: count }, (_, i) => {
    const upsert = random.chance(0.25);
    const name = `p${i}-${seed}.${upsert ? 'u' : 'a'}.csv`;
    const pipeline = upsert ? pipelines[1] : pipelines[0];
    const rows = random.int(100, 3_000);
    return { name, pipeline, rows, text: crashCsv(name, rows) };
  });
  const uriOf = (put: (typeof puts)[number]) => `sftp://${USER}/inbound/${put.pipeline}/${put.name}`;
  const files: CrashFile[] = puts.map((put) => ({ uri: uriOf(put), file: put.name, rows: put.rows }));
  const check = { pool: db.pool, pipelines, tables, files };
  const plan = planKill(random, Math.floor(count / 2), 400);
  const log = [`kill ${describePlan(plan)}`];

  const first = await serve(dir);
  const port = Number(first.ready[1]);
  const fingerprint = first.ready[2] as string;
  const marks = new Marks();
  const acknowledged = new Set<string>();
  let next = 0;
  // Four partner sessions, each putting files one after another, as a batch job would.
  const session = async () => {
    let connection: Awaited<ReturnType<typeof connect>> | undefined;
    try {
      connection = await connect(port, fingerprint);
      for (let i = next++; i < puts.length; i = next++) {
        const put = puts[i] as (typeof puts)[number];
        const { sftp, closed } = connection;
        await Promise.race([
          closed,
          new Promise<void>((resolve, reject) =>
            sftp.writeFile(`/inbound/${put.pipeline}/${put.name}`, put.text, (error) =>
              error ? reject(error) : resolve(),
            ),
          ),
        ]);
        // The CLOSE was answered OK: the file is durable and queued.
        acknowledged.add(uriOf(put));
        marks.add();
      }
    } catch {
      // Cut off by the kill: never acknowledged, so the partner would put it again.
    } finally {
      connection?.client.end();
    }
  };
  const sessions = Promise.all(Array.from({ length: 4 }, session));
  await Promise.race([marks.reached(plan.afterMarks), sessions]);
  await sleep(plan.delayMs);
  await killNow(first);
  await sessions;
  log.push(`${acknowledged.size} of ${count} acknowledged`);
  await assertNothingHalfLoaded(check);

  const second = await serve(dir);
  try {
    expect(second.ready[2], 'the same host key after a restart').toBe(fingerprint);
    const missing = await waitForLoaded(db.pool, pipelines, acknowledged, 30_000);
    expect(missing, `acknowledged puts not loaded after the restart (${log.join('; ')})`).toEqual([]);
    expect(
      await waitUntil(async () => (await pending(join(dir, 'spool'))) === 0, 30_000),
      'spool drained',
    ).toBe(true);
  } finally {
    const exit = await stopGently(second);
    expect(exit.code, second.stderr()).toBe(0);
  }
  report(seed, log);
  await assertExactlyOnce({ ...check, acknowledged });
}

describe('F9 crash suite: the SFTP door', () => {
  it.each(crashSeeds(3))(
    'kill -9 mid-put and mid-load, restart: every acknowledged CLOSE exactly once (seed %i)',
    (seed) => seeded(SUITE, seed, (random) => crashRun(random, seed)),
    120_000,
  );
});
