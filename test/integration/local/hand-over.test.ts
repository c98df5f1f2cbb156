/**
 * `inlet dev`'s hand-over end to end: an object above INLET_LAMBDA_MAX_BYTES put through the local S3
 * endpoint is loaded by a child `inlet ingest --ingestion-id` (the real CLI of this run), exactly once,
 * also when the first child fails and the hand-over is retried, and when the object is announced again.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { type LocalS3, startLocalS3 } from '../../../src/local/s3.js';
import type { Logger } from '../../../src/observability/logger.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import { createTestDatabase } from '../../harness/db.js';

const CONFIG = `
pipelines:
  - name: big
    match: ["big/**"]
    table: public.big
    createTable: true
    columns:
      - { name: id, type: bigint, nullable: false }
`;
const ROWS = 300;
const BODY = `id\n${Array.from({ length: ROWS }, (_, i) => i + 1).join('\n')}\n`;
const credentials = { accessKeyId: 'inlet-test', secretAccessKey: 'inlet-test-secret' };

let work: string;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let s3: LocalS3;
let store: S3ObjectStore;
const messages: string[] = [];

/** A logger that keeps each message, so the test can tell when the handler has seen an event. */
function recording(): Logger {
  const keep = (message: string) => {
    messages.push(message);
  };
  const logger: Logger = { debug: keep, info: keep, warn: keep, error: keep, child: () => logger };
  return logger;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}; log: ${messages.join(' | ')}`);
}

const ledger = async () =>
  (
    await db.pool.query<{ status: string; attempt: string | null; ran_on: string | null }>(
      `SELECT status, details->'handOver'->>'attempt' AS attempt, details->'handOver'->>'ranOn' AS ran_on
         FROM inlet.ingestions WHERE pipeline = 'big'`,
    )
  ).rows;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'inlet-local-hand-over-'));
  const configPath = join(work, 'inlet.config.yaml');
  await writeFile(configPath, CONFIG);
  // The child command: fails while the `fail` file exists (a child that crashed), else runs the real CLI.
  const launcher = join(work, 'launcher.mjs');
  await writeFile(
    launcher,
    `import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
if (existsSync(${JSON.stringify(join(work, 'fail'))})) process.exit(3);
const run = spawnSync(process.execPath, [${JSON.stringify(inject('cliEntry'))}, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(run.status ?? 1);
`,
  );
  db = await createTestDatabase();
  s3 = await startLocalS3({
    dataDir: join(work, 'data'),
    config: parseConfig(CONFIG, configPath),
    pool: db.pool,
    logger: recording(),
    settings: {
      port: 0,
      bucket: 'inbox',
      replayDead: false,
      credentials,
      maxLambdaBytes: 100,
      childEnv: process.env,
    },
    handOver: { configPath, databaseUrl: db.url, command: [process.execPath, launcher] },
  });
  store = new S3ObjectStore({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
  });
}, 60_000);

afterAll(async () => {
  await s3?.stop();
  await db?.drop();
  await rm(work, { recursive: true, force: true });
});

describe('the local S3 endpoint hands a big object to a child inlet ingest', () => {
  it('marks a failed child failed, hands over again on the next delivery, and loads the object once', async () => {
    await writeFile(join(work, 'fail'), '');
    await store.put('inbox', 'big/numbers.csv', BODY);
    expect(
      await until('the failed child', async () =>
        (await ledger())[0]?.status === 'failed' ? true : undefined,
      ),
    ).toBe(true);
    // Nothing loaded: the child never started a load (not even the table exists yet).
    expect((await db.pool.query(`SELECT to_regclass('public.big') AS t`)).rows).toEqual([{ t: null }]);

    // The same object again (an S3 client's retry): the hand-over is retried, and this child succeeds.
    await rm(join(work, 'fail'));
    expect(existsSync(join(work, 'fail'))).toBe(false);
    await store.put('inbox', 'big/numbers.csv', BODY);
    const loaded = await until('the load', async () => {
      const rows = await ledger();
      return rows[0]?.status === 'loaded' ? rows : undefined;
    });
    expect(loaded).toEqual([{ status: 'loaded', attempt: '2', ran_on: 'child' }]);

    // Announced once more: the ledger already has it, no child starts, no row is added.
    const before = messages.length;
    await store.put('inbox', 'big/numbers.csv', BODY);
    await until('the third delivery', async () =>
      messages.slice(before).some((m) => m.startsWith('already handed over')) ? true : undefined,
    );
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.big')).rows).toEqual([{ n: ROWS }]);
    expect(await ledger()).toEqual([{ status: 'loaded', attempt: '2', ran_on: 'child' }]);
  }, 90_000);
});
