/**
 * Migration 7 rewrites the raw S3 keys that ledgers written before the encoded source URIs hold into the
 * form encodeKeyPath gives them today, byte for byte, so that an upgraded Inlet still recognises an object
 * it loaded before the upgrade as a duplicate when S3 delivers its event again.
 */
import { createHash, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { migrate } from '../../../src/db/migrate.js';
import { migrations } from '../../../src/db/migrations/index.js';
import { type Gateway, startGateway } from '../../../src/gateway/server.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { processObject } from '../../../src/serverless/handler.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import { encodeKeyPath } from '../../../src/storage/uri-encoding.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

const MIGRATION = migrations.find((m) => m.name === 'encoded-s3-sources');
const BEFORE = migrations.filter((m) => m.version < (MIGRATION?.version ?? 0));
const UP_TO = migrations.filter((m) => m.version <= (MIGRATION?.version ?? 0));

/** Keys an old ledger may hold raw: every character class encodeKeyPath treats differently. */
const HOSTILE_KEYS = [
  'in/a b.csv',
  'in/a+b.csv',
  'in/100%.csv',
  'in/a%20b.csv',
  'in/grüße/ü.csv',
  'in/😀 emoji.csv',
  "in/it's (1) *~!.csv",
  'in/tab\tnew\nline\u0001\u001f\u007f.csv',
  'in/reserved;,?:@&=$#[]"<>\\^`{|}.csv',
  'in//double//slash/',
  'in/日本語/ファイル.csv',
  'in/-_.keep.csv',
];

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  await migrate(db.pool, { migrations: BEFORE });
});

afterAll(async () => {
  await db?.drop();
});

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function insertOld(pipeline: string, uri: string, content: string, status = 'loaded'): Promise<string> {
  const id = randomUUID();
  await db.pool.query(
    `INSERT INTO inlet.ingestions (id, pipeline, source_uri, content_sha256, bytes, status, target_table, mode,
        started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'public.redelivered', 'append', now(), now())`,
    [id, pipeline, uri, sha(content), Buffer.byteLength(content), status],
  );
  return id;
}

describe('migration 7: S3 source URIs in the ledger are percent-encoded', () => {
  it('exists, after every migration an old ledger has', () => {
    expect(MIGRATION?.version).toBe(7);
    expect(BEFORE.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rewrites each old s3:// row to exactly what encodeKeyPath gives, and leaves other schemes alone', async () => {
    const rows = new Map<string, string>();
    for (const [n, key] of HOSTILE_KEYS.entries()) {
      rows.set(
        await insertOld('hostile', `s3://inbox/${key}`, `content ${n}`),
        `s3://inbox/${encodeKeyPath(key)}`,
      );
    }
    // Two objects whose old URIs become each other's: the same bytes loaded under `a b` and `a%20b`.
    const spaced = await insertOld('twins', 's3://inbox/x/a b.csv', 'same');
    const escaped = await insertOld('twins', 's3://inbox/x/a%20b.csv', 'same');
    const upload = await insertOld('hostile', 'upload:///a%20b.csv', 'upload');
    const file = await insertOld('hostile', 'file:///data/a%20b.csv', 'file');
    const bucketOnly = await insertOld('hostile', 's3://inbox', 'odd');
    await db.pool.query(
      `INSERT INTO inlet.contracts (pipeline, target_table, columns, inferred_from, ingestion_id)
       VALUES ('hostile', 'public.t', '[]', 's3://inbox/in/a b.csv', $1)`,
      [spaced],
    );

    expect(await migrate(db.pool, { migrations: UP_TO })).toEqual({ applied: [7] });

    const { rows: after } = await db.pool.query<{ id: string; source_uri: string }>(
      'SELECT id, source_uri FROM inlet.ingestions',
    );
    const uriOf = new Map(after.map((r) => [r.id, r.source_uri]));
    for (const [id, expected] of rows) expect(uriOf.get(id)).toBe(expected);
    expect(uriOf.get(spaced)).toBe('s3://inbox/x/a%20b.csv');
    expect(uriOf.get(escaped)).toBe('s3://inbox/x/a%2520b.csv');
    expect(uriOf.get(upload)).toBe('upload:///a%20b.csv');
    expect(uriOf.get(file)).toBe('file:///data/a%20b.csv');
    expect(uriOf.get(bucketOnly)).toBe('s3://inbox');
    const contract = await db.pool.query('SELECT inferred_from FROM inlet.contracts');
    expect(contract.rows).toEqual([{ inferred_from: 's3://inbox/in/a%20b.csv' }]);
    const helpers = await db.pool.query(`SELECT proname FROM pg_proc WHERE proname LIKE 'migration_007%'`);
    expect(helpers.rows).toEqual([]);
  });
});

describe('after the upgrade, an object loaded before it', () => {
  const credentials = { accessKeyId: 'migration-test', secretAccessKey: 'migration-test-secret' };
  let work: string;
  let gateway: Gateway;
  let upgraded: TestDatabase;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'inlet-migration-7-'));
    await chmod(work, 0o755);
    gateway = await startGateway({ dataDir: join(work, 'data'), credentials, buckets: ['inbox'] });
    upgraded = await createTestDatabase({ migrate: false });
    await migrate(upgraded.pool, { migrations: BEFORE });
  });

  afterAll(async () => {
    await gateway?.close();
    await upgraded?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('is a duplicate when its event is delivered again, and loads nothing', async () => {
    const key = "in/old ü+%(1)'*~😀.csv";
    const content = 'id\n1\n2\n';
    const store = new S3ObjectStore({
      endpoint: gateway.endpoint,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
    });
    await store.put('inbox', key, content);
    // What the old code left: the raw key in the URI, the rows loaded under that identity.
    await upgraded.pool.query('CREATE TABLE public.redelivered (id bigint NOT NULL)');
    await upgraded.pool.query('INSERT INTO public.redelivered VALUES (1), (2)');
    const id = randomUUID();
    await upgraded.pool.query(
      `INSERT INTO inlet.ingestions (id, pipeline, source_uri, content_sha256, bytes, status, target_table, mode,
          rows_loaded, started_at, finished_at)
       VALUES ($1, 'redelivered', $2, $3, $4, 'loaded', 'public.redelivered', 'append', 2, now(), now())`,
      [id, `s3://inbox/${key}`, sha(content), Buffer.byteLength(content)],
    );
    await migrate(upgraded.pool);

    const config = parseConfig(
      `pipelines:
  - name: redelivered
    match: ["in/**"]
    table: public.redelivered
    columns:
      - { name: id, type: bigint, nullable: false }
`,
      'migration 7 test',
    );
    const outcome = await processObject(
      { bucket: 'inbox', key },
      { store, config, pool: upgraded.pool, logger: silentLogger },
    );
    expect(outcome.status).toBe('duplicate');
    expect(outcome.result?.ingestionId).toBe(id);
    const count = await upgraded.pool.query('SELECT count(*)::int AS n FROM public.redelivered');
    expect(count.rows[0].n).toBe(2);
  });
});
