/**
 * `inlet ingest s3://bucket/key`: the object is streamed from an S3 endpoint (the local gateway here).
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../src/gateway/server.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import { runInlet } from '../../harness/cli.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

const credentials = { accessKeyId: 'cli-test', secretAccessKey: 'cli-test-secret' };

let db: TestDatabase;
let dir: string;
let gateway: Gateway;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'inlet-cli-s3-'));
  await chmod(dir, 0o755);
  gateway = await startGateway({ dataDir: join(dir, 's3'), credentials, buckets: ['inbox'] });
  const store = new S3ObjectStore({
    endpoint: gateway.endpoint,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
  });
  await store.put('inbox', 'daily/2026-11-25 orders.csv', 'order_id,amount\n1,1.50\n2,2.50\n');
  await writeFile(
    join(dir, 'inlet.config.yaml'),
    'pipelines:\n  - name: s3_orders\n    match: ["daily/**"]\n    table: public.s3_orders\n    createTable: true\n    columns:\n      - { name: order_id, type: bigint }\n      - { name: amount, type: "numeric(12,2)" }\n',
  );
});

afterAll(async () => {
  await db?.drop();
  await gateway?.close();
  await rm(dir, { recursive: true, force: true });
});

function inlet(...args: string[]) {
  return runInlet(args, {
    ...process.env,
    DATABASE_URL: db.url,
    INLET_S3_ENDPOINT: gateway.endpoint,
    INLET_S3_ACCESS_KEY_ID: credentials.accessKeyId,
    INLET_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
  });
}

describe('inlet ingest s3://', () => {
  it('streams an object from S3 into its pipeline, and knows it the second time', async () => {
    const config = join(dir, 'inlet.config.yaml');
    const first = await inlet(
      'ingest',
      's3://inbox/daily/2026-11-25 orders.csv',
      '--config',
      config,
      '--json',
    );
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      // The ledger identity: the key percent-encoded, as every door writes it.
      source: 's3://inbox/daily/2026-11-25%20orders.csv',
      pipeline: 's3_orders',
      status: 'loaded',
      rowsLoaded: 2,
    });
    const again = await inlet(
      'ingest',
      's3://inbox/daily/2026-11-25 orders.csv',
      '--config',
      config,
      '--json',
    );
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'duplicate' });
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM s3_orders');
    expect(rows[0].n).toBe(2);
  });

  it('says clearly when the object does not exist', async () => {
    const missing = await inlet(
      'ingest',
      's3://inbox/daily/nope.csv',
      '--config',
      join(dir, 'inlet.config.yaml'),
      '--json',
    );
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({
      status: 'failed',
      error: { code: 'source_not_found' },
    });
  });
});
