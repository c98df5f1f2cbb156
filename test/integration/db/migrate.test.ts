import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/db/migrate.js';
import { migrations } from '../../../src/db/migrations/index.js';
import { DatabaseError } from '../../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

const LATEST = Math.max(...migrations.map((m) => m.version));

describe('migrate', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('gives a fresh database the schema, then applies nothing the second time', async () => {
    expect(await migrate(db.pool)).toEqual({ applied: migrations.map((m) => m.version) });

    const tables = await db.pool.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'inlet' ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.name)).toEqual([
      'api_tokens',
      'contract_versions',
      'contracts',
      'ingestions',
      'rejects',
      'schema_migrations',
      'sftp_user_keys',
      'sftp_users',
      'snapshot_runs',
      'upload_keys',
    ]);
    const recorded = await db.pool.query('SELECT version, name, applied_at FROM inlet.schema_migrations');
    expect(recorded.rows).toEqual([
      { version: 1, name: 'ledger', applied_at: expect.any(Date) },
      { version: 2, name: 'tokens', applied_at: expect.any(Date) },
      { version: 3, name: 'upload-keys', applied_at: expect.any(Date) },
      { version: 4, name: 'snapshot-runs', applied_at: expect.any(Date) },
      { version: 5, name: 'contracts', applied_at: expect.any(Date) },
      { version: 6, name: 'upload-key-requests', applied_at: expect.any(Date) },
      { version: 7, name: 'encoded-s3-sources', applied_at: expect.any(Date) },
      { version: 8, name: 'error-code-casing', applied_at: expect.any(Date) },
      { version: 9, name: 'token-changes', applied_at: expect.any(Date) },
      { version: 10, name: 'contract-versions', applied_at: expect.any(Date) },
      { version: 11, name: 'sftp-users', applied_at: expect.any(Date) },
    ]);

    expect(await migrate(db.pool)).toEqual({ applied: [] });
  });

  it('answers for an up-to-date database with one statement, without the lock (every command starts so)', async () => {
    await migrate(db.pool);
    const statements: string[] = [];
    const counting = {
      connect: async () => {
        const client = await db.pool.connect();
        const query = client.query;
        return Object.assign(Object.create(client) as typeof client, {
          query: (text: string, ...rest: unknown[]) => {
            statements.push(text);
            return (query as (...args: unknown[]) => unknown).call(client, text, ...rest);
          },
          release: () => client.release(),
        });
      },
    } as unknown as typeof db.pool;
    expect(await migrate(counting)).toEqual({ applied: [] });
    expect(statements).toEqual(['SELECT version FROM inlet.schema_migrations']);
  });
});

describe('concurrent migrate', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false, max: 6 });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('serialises concurrent starts: all succeed, each migration is applied once', async () => {
    const results = await Promise.all([migrate(db.pool), migrate(db.pool), migrate(db.pool)]);
    const applied = results.flatMap((r) => r.applied).sort((a, b) => a - b);
    expect(applied).toEqual(migrations.map((m) => m.version));
    const count = await db.pool.query('SELECT count(*)::int AS n FROM inlet.schema_migrations');
    expect(count.rows[0]).toEqual({ n: migrations.length });
  });
});

describe('a failing migration', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('rolls back entirely, is not recorded, and names itself in the error', async () => {
    const broken = [
      ...migrations,
      {
        version: LATEST + 1,
        name: 'broken',
        sql: 'CREATE TABLE inlet.half_done (id int); SELECT no_such_function();',
      },
    ];
    const error = await migrate(db.pool, { migrations: broken }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).message).toMatch(/applying migration \d+ \(broken\)/);
    expect((error as DatabaseError).retryable).toBe(false);

    const leftover = await db.pool.query("SELECT to_regclass('inlet.half_done') AS t");
    expect(leftover.rows[0]).toEqual({ t: null });
    const versions = await db.pool.query('SELECT max(version)::int AS v FROM inlet.schema_migrations');
    expect(versions.rows[0]).toEqual({ v: LATEST });
  });

  it('applies a later migration once it is fixed', async () => {
    const fixed = [
      ...migrations,
      { version: LATEST + 1, name: 'fixed', sql: 'CREATE TABLE inlet.fixed (id int)' },
    ];
    expect(await migrate(db.pool, { migrations: fixed })).toEqual({ applied: [LATEST + 1] });
    expect(await migrate(db.pool, { migrations: fixed })).toEqual({ applied: [] });
  });
});

describe('the ledger', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const insert = (status: string, forced = false, sha = 'abc123') =>
    db.pool.query(
      `INSERT INTO inlet.ingestions (id, pipeline, source_uri, content_sha256, status, forced)
       VALUES ($1, 'orders', 's3://bucket/orders.csv', $2, $3, $4)`,
      [randomUUID(), sha, status, forced],
    );

  it('refuses a second loaded row for the same identity, but allows forced and other statuses', async () => {
    await insert('loaded');
    const error = await insert('loaded').catch((err: unknown) => err);
    expect(error).toMatchObject({ code: '23505', constraint: 'ingestions_one_load_per_identity' });

    await insert('loaded', true);
    await insert('loaded', true);
    await insert('duplicate');
    await insert('failed');
    await insert('loaded', false, 'other-content');

    const rows = await db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM inlet.ingestions WHERE status = 'loaded'",
    );
    expect(rows.rows[0]?.n).toBe(4);
  });

  it('rejects an unknown status', async () => {
    await expect(insert('done')).rejects.toMatchObject({ code: '23514' });
  });
});
