import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { type Gateway, startGateway } from '../../../src/gateway/server.js';
import type { IngestResult } from '../../../src/model/ingestion.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { notificationOf } from '../../../src/observability/notify.js';
import { type HandlerDeps, handleEvent } from '../../../src/serverless/handler.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import { createTestDatabase } from '../../harness/db.js';

const credentials = { accessKeyId: 'inlet-test', secretAccessKey: 'inlet-test-secret' };
const CONFIG = `
pipelines:
  - name: orders
    match: ["orders/**"]
    table: public.orders
    createTable: true
    afterLoad: tag
    columns:
      - { name: order_id, type: bigint, nullable: false }
      - { name: amount, type: "numeric(12,2)" }
  - name: events
    match: ["events/**"]
    table: public.events
    createTable: true
    afterLoad: move
    columns:
      - { name: id, type: integer, nullable: false }
  - name: evolving
    match: ["evolving/**"]
    table: public.evolving
    createTable: true
    onDrift: evolve
    columns:
      - { name: id, type: bigint, nullable: false }
  - name: broken
    match: ["broken/**"]
    table: public.does_not_exist
    columns:
      - { name: id, type: integer }
`;

let work: string;
let gateway: Gateway;
let store: S3ObjectStore;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let deps: HandlerDeps;
const announced: S3EventRecord[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'inlet-handler-'));
  await chmod(work, 0o755);
  gateway = await startGateway({
    dataDir: work,
    credentials,
    buckets: ['inbox'],
    onObjectCreated: async (record) => {
      announced.push(record as S3EventRecord);
    },
  });
  store = new S3ObjectStore({
    endpoint: gateway.endpoint,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
  });
  db = await createTestDatabase();
  deps = { store, config: parseConfig(CONFIG, 'handler test'), pool: db.pool, logger: silentLogger };
});

afterAll(async () => {
  await db?.drop();
  await gateway?.close();
  await rm(work, { recursive: true, force: true });
});

/** Puts an object through the S3 API and returns the event record the gateway fired for it. */
async function putAndAnnounce(key: string, body: string): Promise<S3EventRecord> {
  const before = announced.length;
  await store.put('inbox', key, body);
  const deadline = Date.now() + 5000;
  while (announced.length === before && Date.now() < deadline) await sleep(10);
  const record = announced.at(-1);
  if (!record || announced.length === before) throw new Error(`no event for ${key}`);
  return record;
}

const sqsMessage = (messageId: string, body: unknown) => ({
  messageId,
  receiptHandle: `rh-${messageId}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: {},
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:inlet-inbox',
  awsRegion: 'us-east-1',
});

describe('serverless handler on the local gateway', () => {
  it('B7: loads an object announced with a form-encoded key, and tags it', async () => {
    const record = await putAndAnnounce('orders/a b+c.csv', 'order_id,amount\n1,9.99\n2,5\n');
    expect(record.s3.object.key).toBe('orders/a+b%2Bc.csv');
    await handleEvent({ Records: [record] }, deps);
    const { rows } = await db.pool.query('SELECT order_id, amount FROM orders ORDER BY order_id');
    expect(rows).toEqual([
      { order_id: '1', amount: '9.99' },
      { order_id: '2', amount: '5.00' },
    ]);
    expect(await store.tags('inbox', 'orders/a b+c.csv')).toMatchObject({ 'inlet-status': 'loaded' });
    const ledger = await db.pool.query(`SELECT source_uri FROM inlet.ingestions WHERE pipeline = 'orders'`);
    expect(ledger.rows).toEqual([{ source_uri: 's3://inbox/orders/a%20b%2Bc.csv' }]);
  });

  it("loads an upload API client's object, as EventBridge delivers it through SQS, with the pipeline its name matches", async () => {
    const key = 'clients/acme-uploader/orders/from api.csv';
    const body = 'order_id,amount\n9501,3\n';
    await store.put('inbox', key, body);
    const objectCreated = {
      version: '0',
      id: 'a4c1f8a0-0000-4000-8000-000000000001',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '123456789012',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: ['arn:aws:s3:::inbox'],
      // EventBridge writes the key as it is, not form-encoded.
      detail: {
        version: '0',
        bucket: { name: 'inbox' },
        object: { key, size: Buffer.byteLength(body) },
        reason: 'PostObject',
      },
    };
    const result = await handleEvent({ Records: [sqsMessage('eb-1', objectCreated)] }, deps);
    expect(result).toEqual({ batchItemFailures: [] });
    const ledger = await db.pool.query(
      `SELECT pipeline, status FROM inlet.ingestions WHERE source_uri = 's3://inbox/clients/acme-uploader/orders/from%20api.csv'`,
    );
    expect(ledger.rows).toEqual([{ pipeline: 'orders', status: 'loaded' }]);
  });

  it('tells the notifier of every finished object, once each, with its verdict', async () => {
    const told: { source: string; status: string }[] = [];
    const notifier = {
      ingestionFinished: async (result: { source: string; status: string }) => {
        told.push({ source: result.source, status: result.status });
      },
    };
    const good = await putAndAnnounce('orders/notify-good.csv', 'order_id,amount\n77,1\n');
    const bad = await putAndAnnounce('orders/notify-bad.csv', 'order_id,amount\nx,1\n');
    await handleEvent({ Records: [good, bad] }, { ...deps, notifier });
    expect(told.sort((a, b) => a.source.localeCompare(b.source))).toEqual([
      { source: 's3://inbox/orders/notify-bad.csv', status: 'rejected' },
      { source: 's3://inbox/orders/notify-good.csv', status: 'loaded' },
    ]);
  });

  it('tells the notifier of the columns an evolving file added: the SNS message body holds the contract change', async () => {
    const bodies: Record<string, unknown>[] = [];
    const notifier = {
      ingestionFinished: async (result: IngestResult) => {
        bodies.push(notificationOf(result));
      },
    };
    const record = await putAndAnnounce('evolving/a.csv', 'id,region\n1,north\n');
    await handleEvent({ Records: [record] }, { ...deps, notifier });
    expect(bodies).toEqual([
      expect.objectContaining({
        status: 'loaded',
        contractChange: {
          version: 2,
          columns: [{ name: 'region', type: 'text', source: 'region' }],
          ddl: 'ALTER TABLE "public"."evolving" ADD COLUMN "region" text',
        },
      }),
    ]);
  });

  it('F8: a redelivered event after the commit is skipped by the ledger', async () => {
    const record = await putAndAnnounce('orders/again.csv', 'order_id,amount\n10,1\n');
    await handleEvent({ Records: [record] }, deps);
    await handleEvent({ Records: [record] }, deps);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM orders WHERE order_id = 10');
    expect(rows[0].n).toBe(1);
  });

  it('an SQS batch of ten with one poison message reports only that id; test and unroutable are acknowledged', async () => {
    const records = [];
    for (let i = 0; i < 7; i++)
      records.push(await putAndAnnounce(`orders/batch-${i}.csv`, `order_id,amount\n${100 + i},1\n`));
    const unroutable = await putAndAnnounce('elsewhere/x.csv', 'id\n1\n');
    const response = await handleEvent(
      {
        Records: [
          ...records.map((record, i) => sqsMessage(`good-${i}`, { Records: [record] })),
          sqsMessage('poison', 'this is not json'),
          sqsMessage('test', { Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'inbox' }),
          sqsMessage('unroutable', { Records: [unroutable] }),
        ],
      },
      deps,
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'poison' }] });
    const { rows } = await db.pool.query(
      'SELECT count(*)::int AS n FROM orders WHERE order_id BETWEEN 100 AND 106',
    );
    expect(rows[0].n).toBe(7);
  });

  it('retries a message whose load failed (the table is missing), and only that one', async () => {
    const good = await putAndAnnounce('orders/batch-ok.csv', 'order_id,amount\n20,1\n');
    const broken = await putAndAnnounce('broken/x.csv', 'id\n1\n');
    const response = await handleEvent(
      { Records: [sqsMessage('good', { Records: [good] }), sqsMessage('broken', { Records: [broken] })] },
      deps,
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'broken' }] });
  });

  it('loads an event delivered five times, shuffled into concurrent batches, exactly once', async () => {
    const record = await putAndAnnounce('orders/five.csv', 'order_id,amount\n500,1\n501,2\n');
    const deliveries = [1, 2, 3, 4, 5].map((i) => sqsMessage(`dup-${i}`, { Records: [record] }));
    const results = await Promise.all([
      handleEvent({ Records: [deliveries[3], deliveries[0]] }, deps),
      handleEvent({ Records: [deliveries[2]] }, deps),
      handleEvent({ Records: [deliveries[4], deliveries[1]] }, deps),
    ]);
    for (const result of results) expect(result).toEqual({ batchItemFailures: [] });
    const { rows } = await db.pool.query(
      'SELECT count(*)::int AS n FROM orders WHERE order_id IN (500, 501)',
    );
    expect(rows[0].n).toBe(2);
    const ledger = await db.pool.query(
      `SELECT count(*)::int AS n FROM inlet.ingestions WHERE source_uri = 's3://inbox/orders/five.csv'`,
    );
    expect(ledger.rows[0].n).toBe(1);
  });

  it('moves a processed object under processed/ with afterLoad: move, and never ingests it there', async () => {
    const record = await putAndAnnounce('events/e1.csv', 'id\n1\n2\n');
    await handleEvent({ Records: [record] }, deps);
    expect(await store.head('inbox', 'events/e1.csv')).toBeUndefined();
    expect(await store.head('inbox', 'processed/events/e1.csv')).toBeDefined();
    const copied = announced.find((r) => r.s3.object.key === 'processed/events/e1.csv');
    expect(copied?.eventName).toBe('ObjectCreated:Copy');
    if (copied) await handleEvent({ Records: [copied] }, deps);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM events');
    expect(rows[0].n).toBe(2);
  });

  it('throws for a direct event whose object failed, so Lambda retries it', async () => {
    const broken = await putAndAnnounce('broken/y.csv', 'id\n1\n');
    await expect(handleEvent({ Records: [broken] }, deps)).rejects.toThrow(/does_not_exist/);
  });
});
