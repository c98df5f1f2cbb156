/**
 * Keys PostgreSQL text cannot hold as they are (a NUL byte) and keys at S3's limits, through the local gateway
 * and the Lambda handler into PostgreSQL: every acknowledged object leaves a ledger row whose source is the
 * key percent-encoded as the upload API writes it. The AWS CLI sends what a command line can carry; a NUL
 * cannot be in an argument, so that key goes through the SDK.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3EventRecord, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { type Gateway, startGateway } from '../../../src/gateway/server.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { type HandlerDeps, handleEvent } from '../../../src/serverless/handler.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { type AwsCliOptions, awsCli, describeWithAwsCli } from '../gateway/aws-cli.js';

const credentials = { accessKeyId: 'hostile-keys', secretAccessKey: 'hostile-keys-secret' };
const CONFIG = `
pipelines:
  - name: hostile
    match: ["in/**"]
    table: public.hostile
    createTable: true
    columns:
      - { name: id, type: bigint, nullable: false }
`;
/** 1024 bytes, S3's longest key. */
const LONG_KEY = `in/${'k'.repeat(1024 - 'in/'.length - '.csv'.length)}.csv`;

let work: string;
let gateway: Gateway;
let store: S3ObjectStore;
let db: TestDatabase;
let cli: AwsCliOptions;
let deps: HandlerDeps;

async function ledgerRow(source: string): Promise<{ status: string; rows_loaded: number } | undefined> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await db.pool.query<{ status: string; rows_loaded: number }>(
      `SELECT status, rows_loaded::int FROM inlet.ingestions WHERE source_uri = $1 AND status <> 'processing'`,
      [source],
    );
    if (rows.length > 0 || Date.now() >= deadline) return rows[0];
    await sleep(100);
  }
}

describeWithAwsCli('hostile S3 keys → gateway event → handler → ledger', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'inlet-hostile-keys-'));
    await chmod(work, 0o755);
    await mkdir(join(work, 'home'));
    db = await createTestDatabase();
    gateway = await startGateway({
      dataDir: join(work, 'data'),
      credentials,
      buckets: ['inbox'],
      deferEvents: true,
      // Two quick attempts: a key the handler cannot record must show up as a missing row, not a slow test.
      eventRetry: { attempts: 2, baseDelayMs: 50 },
      onObjectCreated: async (record) => {
        await handleEvent({ Records: [record as S3EventRecord] }, deps);
      },
    });
    store = new S3ObjectStore({
      endpoint: gateway.endpoint,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
    });
    deps = { store, config: parseConfig(CONFIG, 'hostile keys'), pool: db.pool, logger: silentLogger };
    gateway.deliverEvents();
    cli = { endpoint: gateway.endpoint, credentials, home: join(work, 'home') };
  });

  afterAll(async () => {
    await gateway?.close();
    await db?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('records an object whose key holds a NUL byte under its percent-encoded source', async () => {
    await store.put('inbox', 'in/nul\u0000name.csv', 'id\n1\n');
    expect(await ledgerRow('s3://inbox/in/nul%00name.csv')).toEqual({ status: 'loaded', rows_loaded: 1 });
  });

  it('records a 1024-byte key', async () => {
    await store.put('inbox', LONG_KEY, 'id\n2\n3\n');
    expect(await ledgerRow(`s3://inbox/${LONG_KEY}`)).toEqual({ status: 'loaded', rows_loaded: 2 });
  });

  it('records `%`, `+`, spaces and non-ASCII sent by the AWS CLI, encoded as the upload API encodes them', async () => {
    const file = join(work, 'cli.csv');
    await writeFile(file, 'id\n4\n');
    await awsCli(cli, ['s3', 'cp', file, 's3://inbox/in/100% a+b ü.csv']);
    expect(await ledgerRow('s3://inbox/in/100%25%20a%2Bb%20%C3%BC.csv')).toEqual({
      status: 'loaded',
      rows_loaded: 1,
    });
  });

  it('acknowledges an SQS message for a NUL key only with its ledger row, and a rejected file too', async () => {
    const key = 'in/sqs\u0000bad.csv';
    await store.put('inbox', key, 'id\nnot a number\n');
    const record = {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      eventTime: new Date().toISOString(),
      s3: { bucket: { name: 'inbox' }, object: { key: 'in/sqs%00bad.csv' } },
    };
    const event = {
      Records: [{ messageId: 'm1', eventSource: 'aws:sqs', body: JSON.stringify({ Records: [record] }) }],
    } as unknown as SQSEvent;
    const response = await handleEvent(event, deps);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await ledgerRow('s3://inbox/in/sqs%00bad.csv')).toMatchObject({ status: 'rejected' });
  });
});
