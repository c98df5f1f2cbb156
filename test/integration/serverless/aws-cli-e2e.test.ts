/**
 * End to end as a client would do it: `aws s3 cp` (Debian's AWS CLI v2) into the local gateway, whose event
 * record goes into the same handler code that runs in Lambda, and the rows land in PostgreSQL.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { type Gateway, startGateway } from '../../../src/gateway/server.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { type HandlerDeps, handleEvent } from '../../../src/serverless/handler.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import { createTestDatabase } from '../../harness/db.js';
import { type AwsCliOptions, awsCli, describeWithAwsCli } from '../gateway/aws-cli.js';

const credentials = { accessKeyId: 'inlet-test', secretAccessKey: 'inlet-test-secret' };
const CONFIG = `
pipelines:
  - name: incoming
    match: ["incoming/**"]
    table: public.incoming
    createTable: true
    afterLoad: tag
    columns:
      - { name: order_id, type: bigint, nullable: false }
      - { name: amount, type: "numeric(12,2)" }
`;

let work: string;
let gateway: Gateway;
let store: S3ObjectStore;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let cli: AwsCliOptions;
const handled: Array<{ key: string; error?: unknown }> = [];

/** Polls `query` until it returns rows or `ms` have passed; returns the last rows. */
async function pollRows<T>(query: () => Promise<T[]>, ms: number): Promise<T[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const rows = await query();
    if (rows.length > 0 || Date.now() >= deadline) return rows;
    await sleep(100);
  }
}

describeWithAwsCli('AWS CLI upload → gateway event → handler → PostgreSQL', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'inlet-aws-cli-e2e-'));
    await chmod(work, 0o755);
    await mkdir(join(work, 'home'));
    db = await createTestDatabase();
    let deps: HandlerDeps | undefined;
    gateway = await startGateway({
      dataDir: join(work, 'data'),
      port: 0,
      credentials,
      buckets: ['inbox'],
      onObjectCreated: async (record) => {
        const key = (record as S3EventRecord).s3.object.key;
        try {
          if (!deps) throw new Error('handler deps not ready');
          await handleEvent({ Records: [record as S3EventRecord] }, deps);
          handled.push({ key });
        } catch (error) {
          handled.push({ key, error });
          throw error;
        }
      },
    });
    store = new S3ObjectStore({
      endpoint: gateway.endpoint,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
    });
    deps = { store, config: parseConfig(CONFIG, 'aws cli e2e'), pool: db.pool, logger: silentLogger };
    cli = { endpoint: gateway.endpoint, credentials, home: join(work, 'home') };
  });

  afterAll(async () => {
    await gateway?.close();
    await db?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('loads a CSV uploaded with `aws s3 cp` to a key with a space and a plus', async () => {
    const source = join(work, 'orders.csv');
    await writeFile(source, 'order_id,amount\n1,9.99\n2,5\n3,-0.5\n');
    await awsCli(cli, ['s3', 'cp', source, 's3://inbox/incoming/a b+c.csv']);

    const ledger = await pollRows(async () => {
      const { rows } = await db.pool.query<{ source_uri: string; status: string; rows_loaded: string }>(
        `SELECT source_uri, status, rows_loaded FROM inlet.ingestions
          WHERE pipeline = 'incoming' AND status = 'loaded'`,
      );
      return rows;
    }, 15_000);
    // The ledger row commits before the handler returns (it then tags the object): wait for the handler too.
    await pollRows(async () => handled, 15_000);
    expect(handled.filter((h) => h.error !== undefined)).toEqual([]);
    expect(ledger).toEqual([
      { source_uri: 's3://inbox/incoming/a%20b%2Bc.csv', status: 'loaded', rows_loaded: '3' },
    ]);

    const { rows } = await db.pool.query('SELECT order_id, amount FROM incoming ORDER BY order_id');
    expect(rows).toEqual([
      { order_id: '1', amount: '9.99' },
      { order_id: '2', amount: '5.00' },
      { order_id: '3', amount: '-0.50' },
    ]);
    // The event carried the key as S3 encodes it, and the handler marked the object.
    expect(handled.map((h) => h.key)).toEqual(['incoming/a+b%2Bc.csv']);
    expect(await store.tags('inbox', 'incoming/a b+c.csv')).toMatchObject({ 'inlet-status': 'loaded' });
  });
});
