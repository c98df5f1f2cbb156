import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_OS_USER } from '../../../src/db/embedded/os-user.js';
import { pgCtl } from '../../../src/db/embedded/pg-ctl.js';
import { readPostmasterPid } from '../../../src/db/embedded/postmaster.js';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../../src/db/embedded.js';
import { DatabaseError } from '../../../src/errors.js';

const asRoot = process.getuid?.() === 0;

/** Each case gets its own cluster under a root-owned 0755 parent (writable by root only). */
let parent: string;
const started: EmbeddedPostgres[] = [];

beforeAll(async () => {
  parent = await fs.mkdtemp(path.join(os.tmpdir(), 'inlet-embedded-test-'));
  await fs.chmod(parent, 0o755);
});
afterEach(async () => {
  for (const server of started.splice(0).reverse()) await server.stop();
});
afterAll(async () => {
  await fs.rm(parent, { recursive: true, force: true });
});

async function start(dataDir: string, port?: number): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres({
    dataDir,
    ephemeral: true,
    ...(port === undefined ? {} : { port }),
  });
  started.push(server);
  return server;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

async function waitUntilGone(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (/^\d+ \(.*\) Z /.test(stat)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`pid ${pid} still alive`);
}

describe('startEmbeddedPostgres', () => {
  it('creates a cluster, listens on 127.0.0.1 only, and stops', async () => {
    const dataDir = path.join(parent, 'basic');
    const server = await start(dataDir);
    expect(server.reused).toBe(false);
    expect(server.pgDataDir).toBe(path.join(dataDir, 'postgres'));
    expect(server.url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres$/);

    const [settings] = await query<{ listen: string; encoding: string }>(
      server.url,
      "SELECT current_setting('listen_addresses') AS listen, current_setting('server_encoding') AS encoding",
    );
    expect(settings).toEqual({ listen: '127.0.0.1', encoding: 'UTF8' });
    expect((await query<{ u: string }>(server.url, "SELECT upper('é') AS u"))[0]?.u).toBe('É');

    const stored = JSON.parse(await fs.readFile(path.join(dataDir, 'postgres.json'), 'utf8')) as {
      password: string;
      port: number;
    };
    expect(stored.port).toBe(server.port);
    expect(server.url).toContain(encodeURIComponent(stored.password));
    expect((await fs.stat(path.join(dataDir, 'postgres.json'))).mode & 0o777).toBe(0o600);

    await server.stop();
    await expect(query(server.url, 'SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await readPostmasterPid(server.pgDataDir)).toBeUndefined();
  });

  it('reuses the stored password and port, and keeps the data, on restart', async () => {
    const dataDir = path.join(parent, 'restart');
    const first = await start(dataDir);
    await query(first.url, 'CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)');
    await first.stop();

    const second = await start(dataDir);
    expect(second.url).toBe(first.url);
    expect(second.port).toBe(first.port);
    expect(await query(second.url, 'SELECT v FROM kept')).toEqual([{ v: 42 }]);
  });

  it('reuses a server another process already runs for the data dir, and then stop() leaves it running', async () => {
    const dataDir = path.join(parent, 'shared');
    const owner = await start(dataDir);
    const guest = await start(dataDir);
    expect(guest.reused).toBe(true);
    expect(guest.url).toBe(owner.url);
    await guest.stop();
    expect(await query(owner.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('lets concurrent first starts agree on one cluster and one server', async () => {
    const dataDir = path.join(parent, 'race');
    const servers = await Promise.all([start(dataDir), start(dataDir), start(dataDir)]);
    expect(servers.filter((s) => !s.reused)).toHaveLength(1);
    expect(new Set(servers.map((s) => s.url)).size).toBe(1);
    expect(await query(servers[0]!.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect((await fs.readdir(dataDir)).sort()).toEqual(['postgres', 'postgres.json']);
  });

  it('recovers from a server killed with SIGKILL (stale postmaster.pid)', async () => {
    const dataDir = path.join(parent, 'killed');
    const first = await start(dataDir);
    await query(first.url, 'CREATE TABLE survived (v int); INSERT INTO survived VALUES (7)');
    const info = await readPostmasterPid(first.pgDataDir);
    expect(info?.pid).toBeGreaterThan(0);
    process.kill(info!.pid, 'SIGKILL');
    await waitUntilGone(info!.pid);
    expect(await readPostmasterPid(first.pgDataDir)).toBeDefined();

    const second = await start(dataDir);
    expect(second.reused).toBe(false);
    expect(await query(second.url, 'SELECT v FROM survived')).toEqual([{ v: 7 }]);
    await first.stop(); // harmless: its server is long gone
  });

  it('recovers when the stale postmaster.pid names a live process that is not PostgreSQL', async () => {
    const dataDir = path.join(parent, 'pid-reused');
    const first = await start(dataDir);
    await first.stop();
    // PostgreSQL itself refuses to start while the pid in the file is alive and signalable by it,
    // as after a reboot when another program of the server user got that pid.
    const ids = asRoot
      ? {
          uid: Number(execFileSync('id', ['-u', SERVER_OS_USER], { encoding: 'utf8' })),
          gid: Number(execFileSync('id', ['-g', SERVER_OS_USER], { encoding: 'utf8' })),
        }
      : {};
    const impostor = spawn('sleep', ['60'], { stdio: 'ignore', ...ids });
    try {
      const pidFile = path.join(first.pgDataDir, 'postmaster.pid');
      await fs.writeFile(
        pidFile,
        `${impostor.pid}\n${first.pgDataDir}\n0\n${first.port}\n\n127.0.0.1\n0 0\nready   \n`,
      );
      const second = await start(dataDir);
      expect(second.reused).toBe(false);
      expect(await query(second.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      impostor.kill('SIGKILL');
    }
  });

  it('supports fault injection: pg_ctl stop -m immediate, then pg_ctl start, then stop() cleans up', async () => {
    const dataDir = path.join(parent, 'pgctl');
    const server = await start(dataDir);
    const stopped = await pgCtl(['stop', '-m', 'immediate', '-D', server.pgDataDir]);
    expect(stopped.stdout).toContain('server stopped');
    await expect(query(server.url, 'SELECT 1')).rejects.toBeDefined();

    await pgCtl(['start', '-w', '-D', server.pgDataDir]);
    expect(await query(server.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect((await pgCtl(['status', '-D', server.pgDataDir])).code).toBe(0);

    await server.stop();
    const status = await pgCtl(['status', '-D', server.pgDataDir], { allowFailure: true });
    expect(status.code).toBe(3);
  });

  it('uses the given port when one is passed', async () => {
    const port = await freePort();
    const server = await start(path.join(parent, 'fixed-port'), port);
    expect(server.port).toBe(port);
    expect(await query(server.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it.runIf(asRoot)('explains when the postgres OS user cannot enter a parent directory', async () => {
    const locked = path.join(parent, 'locked');
    await fs.mkdir(locked, { mode: 0o700 });
    await fs.chmod(locked, 0o700);
    const error = await startEmbeddedPostgres({ dataDir: path.join(locked, 'data') }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).code).toBe('db_embedded_permission');
    expect((error as DatabaseError).message).toContain(`cannot enter ${locked}`);
  });
});
