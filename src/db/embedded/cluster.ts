/**
 * The cluster under `<dataDir>/postgres`: made once by initdb (UTF-8, C collation) and renamed into
 * place whole, and the settings file Inlet rewrites before every start.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DatabaseError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { describe, isErrno, reason } from './failures.js';
import { HOST, SUPERUSER } from './layout.js';
import { LogTail } from './log-tail.js';
import { isRoot } from './os-user.js';
import type { EmbeddedPostgresClass } from './server-process.js';

const INLET_CONF = 'inlet.conf';

export async function initialiseCluster(
  EmbeddedPostgresClass: EmbeddedPostgresClass,
  dataDir: string,
  pgDataDir: string,
  password: string,
  ephemeral: boolean,
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
      ...(ephemeral ? ['--no-sync'] : []),
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
export async function writeInletConf(pgDataDir: string, port: number, ephemeral: boolean): Promise<void> {
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

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}
