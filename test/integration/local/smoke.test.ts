/**
 * `npm run smoke -- --local` against the local stack: `inlet dev` (what `npm start` runs) started here on
 * free loopback ports with a fresh data folder, and the smoke script run as a user runs it. Every door the
 * local stack has must pass, with its row in the orders table; a file no pipeline takes must fail the run.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inletArgs, ROOT, type Run } from '../../harness/cli.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

const START_TIMEOUT_MS = 45_000;

let db: TestDatabase;
let dataDir: string;
let stack: ChildProcess | undefined;
let stackLog = '';
let env: NodeJS.ProcessEnv;

/** A port nothing listens on now (the stack binds it a moment later, on loopback only). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The smoke script, as `npm run smoke --` runs it (tsx infra/smoke/main.ts), bounded in time. */
function smoke(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'infra/smoke/main.ts', ...args],
      { cwd: ROOT, env, timeout: 90_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The table line of one door: its cells, split on the two-space gaps the table uses. */
function row(stdout: string, door: string): string[] {
  const line = stdout.split('\n').find((one) => one.startsWith(door));
  return line === undefined ? [] : line.split(/ {2,}/);
}

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), 'inlet-smoke-'));
  const [port, s3Port] = [await freePort(), await freePort()];
  env = {
    ...process.env,
    DATABASE_URL: db.url,
    INLET_DATA_DIR: dataDir,
    INLET_HOST: '127.0.0.1',
    INLET_PORT: String(port),
    INLET_S3_PORT: String(s3Port),
    INLET_EXAMPLES: '0',
    INLET_SNAPSHOT_SCHEDULE: 'off',
  };
  delete env.INLET_API_TOKEN;
  delete env.INLET_S3_ACCESS_KEY_ID;
  delete env.INLET_S3_SECRET_ACCESS_KEY;
  stack = spawn(process.execPath, inletArgs('dev'), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  stack.stdout?.on('data', (chunk: Buffer) => {
    stackLog += chunk.toString();
  });
  stack.stderr?.on('data', (chunk: Buffer) => {
    stackLog += chunk.toString();
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!stackLog.includes('Inlet is running') && Date.now() < deadline && stack.exitCode === null) {
    await sleep(100);
  }
  if (!stackLog.includes('Inlet is running')) {
    throw new Error(`inlet dev did not start within ${START_TIMEOUT_MS / 1000} s:\n${stackLog.slice(-2000)}`);
  }
}, START_TIMEOUT_MS + 15_000);

afterAll(async () => {
  if (stack !== undefined && stack.exitCode === null && stack.signalCode === null) {
    const exited = once(stack, 'exit');
    stack.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
    if (!stopped) {
      stack.kill('SIGKILL');
      await exited;
    }
  }
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 40_000);

describe('npm run smoke -- --local', () => {
  it('passes through the S3 gateway and the upload service, says the others are not deployed, and loads', async () => {
    const run = await smoke(['--local', '--timeout', '30']);
    expect(run.code, `${run.stdout}\n${run.stderr}\n${stackLog.slice(-2000)}`).toBe(0);
    expect(run.stdout).toMatch(/^Inlet smoke test \d{8}-\d{6}-[0-9a-f]{4}: the local stack/);
    for (const door of ['S3 put', 'HTTPS server']) {
      const [, result, sent, inLedger, detail] = row(run.stdout, door);
      expect(result, door).toBe('pass');
      expect(sent, door).toMatch(/^\d+\.\d s$/);
      expect(inLedger, door).toMatch(/^\d+\.\d s$/);
      expect(detail, door).toMatch(/^loaded \(1 row loaded; ingestion [0-9a-f-]{36}, /);
    }
    expect(row(run.stdout, 'API Gateway presigned upload')[1]).toBe('not deployed');
    expect(row(run.stdout, 'SFTP')[1]).toBe('not deployed');
    expect(run.stdout).toContain('2 passed, 0 failed, 2 not tried');
    const orders = await db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM public.orders WHERE customer = 'Inlet smoke test'",
    );
    expect(orders.rows[0]?.n).toBe(2);
  });

  it('fails, exit code 1, when the files do not load, saying why for each door', async () => {
    const run = await smoke(['--local', '--timeout', '3', '--name', 'nowhere/smoke-{run}-{door}.bin']);
    expect(run.code, run.stdout).toBe(1);
    expect(row(run.stdout, 'S3 put').slice(1, 2)).toEqual(['FAIL']);
    expect(row(run.stdout, 'S3 put')[4]).toMatch(
      /^no ledger row .* after 3 s for s3:\/\/inlet-inbox\/nowhere\//,
    );
    expect(row(run.stdout, 'HTTPS server')[4]).toMatch(/HTTP 422 .*no_pipeline/);
    expect(run.stdout).toContain('0 passed, 2 failed, 2 not tried');
  });

  it('tries only the doors asked for, and explains itself with --help', async () => {
    const run = await smoke(['--local', '--doors', 'server', '--timeout', '30']);
    expect(run.code, run.stdout).toBe(0);
    expect(row(run.stdout, 'S3 put')[1]).toBe('left out');
    expect(row(run.stdout, 'HTTPS server')[1]).toBe('pass');
    const help = await smoke(['--help']);
    expect(help.code).toBe(0);
    for (const option of [
      '--local',
      '--outputs',
      '--token',
      '--doors',
      '--file',
      '--name',
      '--timeout',
      'Exit code',
    ]) {
      expect(help.stdout).toContain(option);
    }
    const wrong = await smoke(['--doors', 'ftp']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('"ftp" is not a door');
  });
});
