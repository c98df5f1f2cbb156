/**
 * The roles the AWS deployment's database set-up creates (infra/functions/database-setup.ts), against a
 * real PostgreSQL set up as RDS sets one up: the database owned by a master user who may create roles but
 * is no superuser. The ingest role loads files (COPY, merge, replace) and writes the ledger; the status
 * role reads what the status API reads and nothing else; nobody else may connect.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseLogin, setUpDatabase } from '../../../infra/functions/database-setup.js';
import { ingestionsOfObject } from '../../../infra/functions/ingestion-status.js';
import { migrate } from '../../../src/db/migrate.js';
import { quoteIdent } from '../../../src/db/sql.js';
import { ingest } from '../../../src/engine/ingest.js';
import { getIngestion } from '../../../src/ledger/read.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { adminQuery, serverUrl } from '../../harness/db.js';
import { testPipeline } from '../../harness/pipelines.js';
import { memorySource } from '../../harness/sources.js';

const suffix = randomBytes(4).toString('hex');
const database = `inlet_roles_${suffix}`;
const password = () => randomBytes(18).toString('base64url');
const server = new URL(serverUrl(database));
const login = (user: string, secret: string): DatabaseLogin => ({
  host: decodeURIComponent(server.hostname),
  port: Number(server.port || 5432),
  database,
  user,
  password: secret,
  ssl: false,
});
const master = login(`inlet_master_${suffix}`, password());
const ingestRole = login(`inlet_ingest_${suffix}`, password());
const statusRole = login(`inlet_status_${suffix}`, password());
const outsider = login(`inlet_outsider_${suffix}`, password());
const setup = { master, ingest: ingestRole, status: statusRole, logger: silentLogger };

const pools: pg.Pool[] = [];
function poolFor(who: DatabaseLogin): pg.Pool {
  const pool = new pg.Pool({ ...who, max: 2, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => {});
  pools.push(pool);
  return pool;
}

/** The SQLSTATE a query fails with, or 'ok'. */
async function outcome(pool: pg.Pool, sql: string): Promise<string> {
  try {
    await pool.query(sql);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

let ingestPool: pg.Pool;
let statusPool: pg.Pool;

beforeAll(async () => {
  // What RDS gives: a master user with CREATEROLE (no superuser), owner of the application database.
  await adminQuery(`CREATE ROLE ${quoteIdent(master.user)} LOGIN CREATEROLE PASSWORD '${master.password}'`);
  await adminQuery(`CREATE ROLE ${quoteIdent(outsider.user)} LOGIN PASSWORD '${outsider.password}'`);
  await adminQuery(`CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(master.user)}`);
  await setUpDatabase(setup);
  // A second run (every deployment that changes the set-up) must change nothing and fail on nothing.
  await setUpDatabase(setup);
  ingestPool = poolFor(ingestRole);
  statusPool = poolFor(statusRole);
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
  await adminQuery(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`).catch(() => undefined);
  for (const role of [ingestRole, statusRole, outsider, master]) {
    await adminQuery(`DROP ROLE IF EXISTS ${quoteIdent(role.user)}`).catch(() => undefined);
  }
});

const orders = (table: string, mode: 'upsert' | 'replace' | 'append') =>
  testPipeline({
    name: `orders_${mode}`,
    table: { schema: 'public', name: table },
    mode,
    ...(mode === 'append' ? {} : { key: ['order_id'] }),
    columns: [
      { name: 'order_id', type: 'bigint' },
      { name: 'amount', type: 'numeric(12,2)' },
    ],
  });
const csv = (rows: Array<[number, string]>) =>
  `order_id,amount\n${rows.map(([id, amount]) => `${id},${amount}`).join('\n')}\n`;

describe('the ingest role', () => {
  it("owns Inlet's schema: the set-up migrated it, and a later migration applies as the ingest role", async () => {
    const { rows } = await ingestPool.query<{ owner: string }>(
      "SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'inlet'",
    );
    expect(rows).toEqual([{ owner: ingestRole.user }]);
    const later = {
      version: 10_000,
      name: 'later',
      sql: 'ALTER TABLE inlet.ingestions ADD COLUMN later int',
    };
    await expect(migrate(ingestPool, { migrations: [later] })).resolves.toEqual({ applied: [10_000] });
  });

  it('creates a pipeline table, COPYs and merges into it, replaces it, appends, and writes the ledger', async () => {
    const upsert = orders(`roles_upsert_${suffix}`, 'upsert');
    const first = await ingest(
      memorySource(
        'a.csv',
        csv([
          [1, '1.00'],
          [2, '2.00'],
        ]),
      ),
      upsert,
      { pool: ingestPool },
    );
    const second = await ingest(
      memorySource(
        'b.csv',
        csv([
          [2, '20.00'],
          [3, '3.00'],
        ]),
      ),
      upsert,
      {
        pool: ingestPool,
      },
    );
    expect([first.status, second.status]).toEqual(['loaded', 'loaded']);
    const merged = await ingestPool.query(
      `SELECT order_id::int, amount::text FROM public.${upsert.table.name} ORDER BY 1`,
    );
    expect(merged.rows).toEqual([
      { order_id: 1, amount: '1.00' },
      { order_id: 2, amount: '20.00' },
      { order_id: 3, amount: '3.00' },
    ]);

    const replace = orders(`roles_replace_${suffix}`, 'replace');
    for (const file of ['c.csv', 'd.csv']) {
      const result = await ingest(memorySource(file, csv([[file === 'c.csv' ? 7 : 8, '8.00']])), replace, {
        pool: ingestPool,
      });
      expect(result.status, result.error?.message).toBe('loaded');
    }
    const replaced = await ingestPool.query(`SELECT order_id::int FROM public.${replace.table.name}`);
    expect(replaced.rows).toEqual([{ order_id: 8 }]);

    const append = orders(`roles_append_${suffix}`, 'append');
    const appended = await ingest(memorySource('e.csv', csv([[9, 'not a number']])), append, {
      pool: ingestPool,
    });
    // A rejected row is written to inlet.rejects: the ledger's tables are the ingest role's too.
    expect(appended.rowsRejected).toBe(1);
    const ledger = await ingestPool.query('SELECT count(*)::int AS n FROM inlet.ingestions');
    expect(ledger.rows[0].n).toBeGreaterThanOrEqual(5);
  });

  it('may not create roles, nor read or change another role', async () => {
    expect(await outcome(ingestPool, 'CREATE ROLE inlet_ingest_sneaky LOGIN')).toBe('42501');
    expect(await outcome(ingestPool, `ALTER ROLE ${quoteIdent(statusRole.user)} PASSWORD 'x'`)).toBe('42501');
  });
});

describe('the status role', () => {
  it('reads an ingestion by id and by inbox key, as the status API does', async () => {
    const upsert = orders(`roles_status_${suffix}`, 'upsert');
    const source = {
      ...memorySource('orders/Nov 2026.csv', csv([[5, '5.00']])),
      uri: 's3://inbox/orders/Nov%202026.csv',
    };
    const result = await ingest(source, upsert, { pool: ingestPool });
    expect(result.status).toBe('loaded');
    const id = result.ingestionId ?? '';
    await expect(getIngestion(statusPool, id)).resolves.toMatchObject({ id, status: 'loaded' });
    const found = await ingestionsOfObject(statusPool, 'inbox', 'orders/Nov 2026.csv');
    expect(found.map((one) => one.id)).toEqual([id]);
  });

  it('writes nothing and reads neither the pipelines’ rows, the tokens nor the rejected values', async () => {
    const table = `public.roles_upsert_${suffix}`;
    expect(await outcome(statusPool, `SELECT * FROM ${table}`)).toBe('42501');
    expect(await outcome(statusPool, 'SELECT * FROM inlet.api_tokens')).toBe('42501');
    expect(await outcome(statusPool, 'SELECT * FROM inlet.rejects')).toBe('42501');
    expect(await outcome(statusPool, "UPDATE inlet.ingestions SET status = 'failed'")).toBe('42501');
    expect(await outcome(statusPool, 'DELETE FROM inlet.ingestions')).toBe('42501');
    expect(await outcome(statusPool, `INSERT INTO ${table} (order_id) VALUES (99)`)).toBe('42501');
    expect(await outcome(statusPool, 'CREATE TABLE public.status_was_here (x int)')).toBe('42501');
    expect(await outcome(statusPool, 'CREATE TEMP TABLE status_temp (x int)')).toBe('42501');
  });
});

describe('the database', () => {
  it('refuses a connection from any other role', async () => {
    const pool = poolFor(outsider);
    expect(await outcome(pool, 'SELECT 1')).toBe('42501');
  });

  it("gives a role its secret's password again when the secret no longer logs in", async () => {
    await adminQuery(`ALTER ROLE ${quoteIdent(statusRole.user)} PASSWORD 'changed-behind-our-back'`);
    const stale = new pg.Client({ ...statusRole });
    await expect(stale.connect()).rejects.toMatchObject({ code: '28P01' });
    await setUpDatabase(setup);
    const fresh = new pg.Client({ ...statusRole });
    await fresh.connect();
    await fresh.end();
  });
});
