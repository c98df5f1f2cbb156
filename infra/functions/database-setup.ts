/**
 * Prepares Inlet's database for its workloads: the ingest and status roles exist and log in with their
 * secrets' passwords, hold exactly the grants of database-roles.ts, and Inlet's own schema is migrated,
 * by the ingest role, so that it owns the ledger and `inlet serve` can apply later migrations itself.
 * Runs again safely: an existing role keeps its password unless its secret's no longer logs in (a
 * database restored from a snapshot, say), and then gets the secret's.
 */
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import type { Logger } from '../../src/observability/logger.js';
import { createRole, databaseGrants, type RoleNames, setPassword, statusGrants } from './database-roles.js';

/** How one user reaches the database. */
export interface DatabaseLogin {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /** true: TLS, the certificate verified (RDS forces TLS); false only for a local test server. */
  readonly ssl: boolean;
}

export interface DatabaseSetup {
  /** The database's owner, allowed to create roles (RDS's master user). */
  readonly master: DatabaseLogin;
  readonly ingest: DatabaseLogin;
  readonly status: DatabaseLogin;
  readonly logger: Logger;
}

/** PostgreSQL's answers to a login whose password is wrong (28P01) or whose role may not log in (28000). */
const REFUSED_LOGIN = new Set(['28P01', '28000']);

export async function setUpDatabase(setup: DatabaseSetup): Promise<void> {
  const { master, ingest, status, logger } = setup;
  const names: RoleNames = { database: master.database, ingest: ingest.user, status: status.user };
  await withClient(master, async (db) => {
    const created: string[] = [];
    for (const login of [ingest, status]) {
      const exists = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [login.user]);
      if (exists.rowCount === 0) {
        await db.query(createRole(login.user, login.password));
        created.push(login.user);
      }
    }
    for (const statement of databaseGrants(names)) await db.query(statement);
    for (const login of [ingest, status]) {
      if (created.includes(login.user) || (await logsIn(login))) continue;
      logger.warn("a role's secret did not log in: the role gets the secret's password", {
        role: login.user,
      });
      await db.query(setPassword(login.user, login.password));
    }
    logger.info('database roles ready', { created, roles: [ingest.user, status.user] });
  });

  const pool = new pg.Pool({ ...clientConfig(ingest), max: 1 });
  pool.on('error', () => {});
  try {
    const { applied } = await migrate(pool, { logger });
    for (const statement of statusGrants(names)) await pool.query(statement);
    logger.info('Inlet schema migrated by the ingest role', { applied });
  } finally {
    await pool.end();
  }
}

async function logsIn(login: DatabaseLogin): Promise<boolean> {
  try {
    await withClient(login, async () => undefined);
    return true;
  } catch (error) {
    if (REFUSED_LOGIN.has((error as { code?: string }).code ?? '')) return false;
    throw error;
  }
}

async function withClient<T>(login: DatabaseLogin, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(clientConfig(login));
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function clientConfig(login: DatabaseLogin): pg.ClientConfig {
  return {
    host: login.host,
    port: login.port,
    database: login.database,
    user: login.user,
    password: login.password,
    ssl: login.ssl,
    connectionTimeoutMillis: 10_000,
    application_name: 'inlet-database-setup',
  };
}
