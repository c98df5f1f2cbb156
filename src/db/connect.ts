import { Socket } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../observability/logger.js';
import { silentLogger } from '../observability/logger.js';
import { redactSecrets } from './errors.js';
import { databaseFromSecret } from './secret.js';

export interface ResolvedDatabase {
  /** Connection URL, password included: log it only through redactUrl. */
  url: string;
  /** Where the URL came from. */
  source: 'url' | 'secret' | 'embedded';
  /** With a secret: the password for each new connection (the URL has none). */
  password?: () => Promise<string>;
  /** Stops the embedded server if this call started it; otherwise does nothing. */
  close(): Promise<void>;
}

export interface ResolveDatabaseOptions {
  /** A connection string (--database-url, else DATABASE_URL); wins over everything. */
  url?: string | undefined;
  /** The Secrets Manager secret holding the credentials (INLET_DATABASE_SECRET_ARN), when there is no URL. */
  secret?: { arn: string; host?: string | undefined; sslmode?: string | undefined } | undefined;
  /** Inlet's data directory, where the embedded server lives when there is neither. */
  dataDir: string;
  logger?: Logger;
}

/**
 * The database to use: the URL, else the secret's (on AWS), else an embedded PostgreSQL under the data
 * directory, started on demand (or reused if another Inlet process already runs it).
 */
export async function resolveDatabaseUrl(options: ResolveDatabaseOptions): Promise<ResolvedDatabase> {
  const noop = async () => {};
  if (nonEmpty(options.url)) return { url: options.url, source: 'url', close: noop };
  const { secret } = options;
  if (secret !== undefined) {
    const { url, password } = await databaseFromSecret(secret.arn, {
      host: secret.host,
      sslmode: secret.sslmode,
    });
    return { url, source: 'secret', password, close: noop };
  }
  // Imported here: a command given a URL never loads the embedded server's code.
  const { startEmbeddedPostgres } = await import('./embedded.js');
  const server = await startEmbeddedPostgres({
    dataDir: path.resolve(options.dataDir),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return { url: server.url, source: 'embedded', close: () => server.stop() };
}

export interface PoolOptions {
  /** Connections at most; default 4. */
  max?: number;
  /** Shown in pg_stat_activity; default 'inlet'. */
  applicationName?: string;
  /** Give up opening a connection after this long; default 10 s. */
  connectionTimeoutMillis?: number;
  /** Close connections idle this long; default 30 s. */
  idleTimeoutMillis?: number;
  logger?: Logger;
  /** Asked for each new connection, e.g. from a rotated secret; the URL's password otherwise. */
  password?: () => Promise<string>;
  /**
   * When aborted, every connection of the pool is cut at once, one still being made included: `end()` waits
   * for such a connection to be made or to time out, which a server that accepts and never answers makes the
   * whole connection timeout. For a caller that no longer needs what it started.
   */
  signal?: AbortSignal;
}

export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const logger = options.logger ?? silentLogger;
  const pool = new pg.Pool({
    // node-postgres lets a connection string's fields win over explicit ones, so a password function
    // needs the URL taken apart.
    ...(options.password
      ? { ...connectionFields(url), password: options.password }
      : { connectionString: url }),
    max: options.max ?? 4,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
    idleTimeoutMillis: options.idleTimeoutMillis ?? 30_000,
    application_name: options.applicationName ?? 'inlet',
    // Lets the OS notice a server that vanished without closing the socket (host crash, network cut).
    keepAlive: true,
    ...(options.signal ? { stream: abortableSockets(options.signal) } : {}),
  });
  // An idle client whose server connection drops (restart, admin shutdown) emits 'error' on the
  // pool; unhandled, that would crash the process. The pool discards that client by itself, and
  // the next query gets a fresh connection or a proper error.
  pool.on('error', (err) => {
    logger.warn('an idle PostgreSQL connection was closed; it will be replaced', {
      error: redactSecrets(err.message),
      code: (err as { code?: unknown }).code,
    });
  });
  return pool;
}

/**
 * What node-postgres makes for each connection on Node (a plain socket it connects, and wraps in TLS when the
 * URL asks for it), kept so that `signal` can destroy them.
 */
function abortableSockets(signal: AbortSignal): () => Socket {
  const open = new Set<Socket>();
  signal.addEventListener('abort', () => {
    for (const socket of open) socket.destroy();
  });
  return () => {
    const socket = new Socket();
    if (signal.aborted) {
      socket.destroy();
      return socket;
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    return socket;
  };
}

function connectionFields(url: string): pg.PoolConfig {
  const parsed = new URL(url);
  const sslmode = parsed.searchParams.get('sslmode') ?? 'verify-full';
  return {
    host: decodeURIComponent(parsed.hostname),
    port: parsed.port === '' ? 5432 : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    database: decodeURIComponent(parsed.pathname.slice(1)) || 'postgres',
    ssl: sslmode === 'disable' ? false : sslmode === 'no-verify' ? { rejectUnauthorized: false } : true,
  };
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}
