/**
 * A server already running for the cluster, as its postmaster.pid tells: one another Inlet process
 * started (used as is), or the stale file of one that died (removed).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { DatabaseError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { isErrno } from './failures.js';
import { CONFIG_FILE, DATABASE, HOST, SUPERUSER } from './layout.js';

export interface PostmasterPid {
  pid: number;
  port: number | undefined;
  /** 'starting', 'ready', 'stopping' or 'standby' (PostgreSQL 10+). */
  status: string | undefined;
}

/** Reads `<pgDataDir>/postmaster.pid`, or undefined when no server claims the cluster. */
export async function readPostmasterPid(pgDataDir: string): Promise<PostmasterPid | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(pgDataDir, 'postmaster.pid'), 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return { pid: 0, port: undefined, status: undefined };
  const port = Number.parseInt(lines[3] ?? '', 10);
  return { pid, port: Number.isInteger(port) ? port : undefined, status: lines[7]?.trim() || undefined };
}

/**
 * Finds a live server for this cluster (started by another Inlet process) and returns its port, or
 * removes the postmaster.pid a killed server left behind: PostgreSQL refuses to start while that
 * file names a live process, and after a restart its pid may belong to something else.
 */
export async function findRunningServer(
  pgDataDir: string,
  password: string,
  logger: Logger,
): Promise<number | undefined> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const info = await readPostmasterPid(pgDataDir);
    if (info === undefined) return undefined;
    const liveness = await postmasterLiveness(info.pid);
    if (liveness === 'dead') {
      logger.warn('removing the stale postmaster.pid of a server that is no longer running', {
        pid: info.pid,
        dataDir: pgDataDir,
      });
      await fs.rm(path.join(pgDataDir, 'postmaster.pid'), { force: true });
      return undefined;
    }
    if (info.status === 'stopping') {
      if (Date.now() > deadline) break;
      await sleep(100);
      continue;
    }
    if (info.port !== undefined) {
      const outcome = await tryConnect(info.port, password);
      if (outcome === 'ok') return info.port;
      if (outcome instanceof Error) {
        throw new DatabaseError(
          'db_embedded_start',
          `The embedded PostgreSQL running for ${pgDataDir} (pid ${info.pid}) refused Inlet's stored credentials: ${outcome.message}. ` +
            `Was ${CONFIG_FILE} replaced? Restore it, or stop that server and move the cluster away.`,
          { cause: outcome },
        );
      }
    }
    if (Date.now() > deadline) break;
    await sleep(200);
  }
  const info = await readPostmasterPid(pgDataDir);
  throw new DatabaseError(
    'db_embedded_start',
    `A PostgreSQL process (pid ${info?.pid ?? '?'}) holds ${pgDataDir} but does not accept connections on ${HOST}:${info?.port ?? '?'}. ` +
      'Stop it (pg_ctl stop -D <dir>), or set DATABASE_URL to use another server.',
  );
}

/**
 * 'dead' only when we are sure no postmaster for the cluster runs under that pid: the pid does not
 * exist, or /proc shows it is another program (pid reuse after a reboot or in a new container).
 */
export async function postmasterLiveness(pid: number): Promise<'alive' | 'dead'> {
  if (pid <= 0) return 'dead';
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (isErrno(err, 'ESRCH')) return 'dead';
    // EPERM: it exists but belongs to another user, which may well be the server user.
  }
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // A killed postmaster stays a zombie until its parent reaps it; it no longer holds the cluster.
    if (/^\d+ \(.*\) Z /.test(stat)) return 'dead';
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('postgres') ? 'alive' : 'dead';
  } catch {
    // No /proc (macOS) or it vanished meanwhile: the connection attempt decides.
    return 'alive';
  }
}

async function tryConnect(port: number, password: string): Promise<'ok' | 'unavailable' | Error> {
  const client = new pg.Client({
    host: HOST,
    port,
    user: SUPERUSER,
    password,
    database: DATABASE,
    connectionTimeoutMillis: 2_000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'ok';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === '28P01' || code === '28000') return err as Error;
    return 'unavailable';
  } finally {
    await client.end().catch(() => undefined);
  }
}
