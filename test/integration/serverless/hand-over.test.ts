import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ingest } from '../../../src/engine/ingest.js';
import { type Gateway, startGateway } from '../../../src/gateway/server.js';
import { ingestionView, listIngestions } from '../../../src/ledger/read.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { ecsHandOver } from '../../../src/serverless/ecs-hand-over.js';
import { type HandlerDeps, handleEvent } from '../../../src/serverless/handler.js';
import { pinnedObjectSource } from '../../../src/storage/object-source.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import { createTestDatabase } from '../../harness/db.js';

const credentials = { accessKeyId: 'inlet-test', secretAccessKey: 'inlet-test-secret' };
const CONFIG = `
pipelines:
  - name: orders
    match: ["orders/**"]
    table: public.orders
    createTable: true
    serverless: { maxLambdaBytes: 64 }
    columns:
      - { name: order_id, type: bigint, nullable: false }
      - { name: amount, type: "numeric(12,2)" }
  - name: slow
    match: ["slow/**"]
    table: public.slow
    createTable: true
    columns:
      - { name: id, type: bigint, nullable: false }
`;
const SLOW_ROWS = 400;
const SLOW = `id\n${Array.from({ length: SLOW_ROWS }, (_, i) => i + 1).join('\n')}\n`;
const BIG = `order_id,amount\n${Array.from({ length: 20 }, (_, i) => `${i + 1},1.50`).join('\n')}\n`;

/** What the ECS API received: the X-Amz-Target and the JSON body of each call. */
const ecsCalls: { target: string; body: Record<string, unknown> }[] = [];
let ecsAnswer: () => unknown = () => ({});
let ecs: Server;
let work: string;
let gateway: Gateway;
let store: S3ObjectStore;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let deps: HandlerDeps;
const announced: S3EventRecord[] = [];

beforeAll(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'inlet-test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'inlet-test-secret');
  // The ECS API on loopback: the real SDK client signs and sends its JSON 1.1 request here.
  ecs = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      ecsCalls.push({
        target: String(request.headers['x-amz-target']),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(ecsAnswer()));
    });
  });
  await new Promise<void>((resolve) => ecs.listen(0, '127.0.0.1', resolve));
  work = await mkdtemp(join(tmpdir(), 'inlet-hand-over-'));
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
  deps = {
    store,
    config: parseConfig(CONFIG, 'hand-over test'),
    pool: db.pool,
    logger: silentLogger,
    handOver: ecsHandOver({
      cluster: 'inlet-handover',
      taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/inlet-ingest:3',
      container: 'inlet',
      subnets: ['subnet-0a', 'subnet-0b'],
      securityGroups: ['sg-0c'],
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(ecs.address() as AddressInfo).port}`,
    }),
  };
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await db?.drop();
  await gateway?.close();
  await new Promise((resolve) => ecs?.close(resolve));
  await rm(work, { recursive: true, force: true });
});

async function putAndAnnounce(key: string, body: string): Promise<S3EventRecord> {
  const before = announced.length;
  await store.put('inbox', key, body);
  const deadline = Date.now() + 5000;
  while (announced.length === before && Date.now() < deadline) await sleep(10);
  const record = announced.at(-1);
  if (!record || announced.length === before) throw new Error(`no event for ${key}`);
  return record;
}

const sqs = (messageId: string, record: S3EventRecord) => ({
  Records: [
    {
      messageId,
      receiptHandle: `rh-${messageId}`,
      body: JSON.stringify({ Records: [record] }),
      attributes: {},
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:inlet-inbox',
      awsRegion: 'us-east-1',
    },
  ],
});

/** What the task does: `inlet ingest <uri> --pipeline orders --ingestion-id <id> --etag <etag>`, in-process. */
async function runTheTask(command: string[], key = 'orders/big.csv', index = 0): Promise<void> {
  const option = (name: string) => (command.includes(name) ? command[command.indexOf(name) + 1] : undefined);
  const id = option('--ingestion-id') as string;
  const versionId = option('--version-id');
  const etag = option('--etag');
  const pipeline = deps.config.pipelines[index];
  if (!pipeline) throw new Error('no pipeline');
  const source = await pinnedObjectSource(store, 'inbox', key, {
    ...(versionId === undefined ? {} : { versionId }),
    ...(etag === undefined ? {} : { etag }),
  });
  const result = await ingest(source, pipeline, { pool: db.pool, ingestionId: id });
  expect(result.status).toBe('loaded');
}

describe('a Lambda hands an object above its limit to an ECS Fargate task', () => {
  it('refuses to start a task ECS did not start (failures[]): the message is retried and nothing is recorded', async () => {
    ecsAnswer = () => ({ tasks: [], failures: [{ reason: 'RESOURCE:ENI', arn: 'x' }] });
    const record = await putAndAnnounce('orders/big.csv', BIG);
    const response = await handleEvent(sqs('m0', record), deps);
    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
    const ledger = await db.pool.query(`SELECT id FROM inlet.ingestions`);
    expect(ledger.rows).toEqual([]);
    ecsCalls.length = 0;
  });

  it('sends RunTask as the ECS API documents it, records the hand-over, and a redelivery starts no second load', async () => {
    ecsAnswer = () => ({
      tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/inlet-handover/abc' }],
      failures: [],
    });
    const record = announced.at(-1) as S3EventRecord;
    expect(await handleEvent(sqs('m1', record), deps)).toEqual({ batchItemFailures: [] });
    expect(ecsCalls).toHaveLength(1);
    const call = ecsCalls[0] as (typeof ecsCalls)[number];
    expect(call.target).toBe('AmazonEC2ContainerServiceV20141113.RunTask');
    const id = (await db.pool.query<{ id: string }>(`SELECT id FROM inlet.ingestions`)).rows[0]?.id as string;
    expect(call.body).toEqual({
      cluster: 'inlet-handover',
      taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/inlet-ingest:3',
      launchType: 'FARGATE',
      count: 1,
      clientToken: `${id}/1`,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-0a', 'subnet-0b'],
          securityGroups: ['sg-0c'],
          assignPublicIp: 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [
          {
            name: 'inlet',
            command: [
              'ingest',
              's3://inbox/orders/big.csv',
              '--pipeline',
              'orders',
              '--ingestion-id',
              id,
              '--etag',
              (await store.head('inbox', 'orders/big.csv'))?.etag,
            ],
          },
        ],
      },
      startedBy: id,
      tags: [
        { key: 'inlet:ingestion', value: id },
        { key: 'inlet:pipeline', value: 'orders' },
      ],
    });
    const queued = await db.pool.query(`SELECT status, details FROM inlet.ingestions`);
    expect(queued.rows).toEqual([
      {
        status: 'queued',
        details: {
          handOver: expect.objectContaining({
            ranOn: 'task',
            from: 'lambda',
            attempt: 1,
            runId: 'arn:aws:ecs:us-east-1:123456789012:task/inlet-handover/abc',
            reason: expect.stringContaining('above the Lambda limit of 64 bytes'),
          }),
        },
      },
    ]);
    expect(await db.pool.query('SELECT 1 FROM public.orders').catch(() => ({ rowCount: 0 }))).toMatchObject({
      rowCount: 0,
    });

    // SQS delivers the same event again before the task has finished: no second task.
    expect(await handleEvent(sqs('m1', record), deps)).toEqual({ batchItemFailures: [] });
    expect(ecsCalls).toHaveLength(1);

    // The task loads under the function's id; then the event comes once more.
    const overrides = call.body.overrides as { containerOverrides: { command: string[] }[] };
    await runTheTask(overrides.containerOverrides[0]?.command ?? []);
    expect(await handleEvent(sqs('m1', record), deps)).toEqual({ batchItemFailures: [] });
    expect(ecsCalls).toHaveLength(1);
    const rows = await db.pool.query('SELECT count(*)::int AS n FROM public.orders');
    expect(rows.rows).toEqual([{ n: 20 }]);
    const ledger = await db.pool.query(
      `SELECT id, status, rows_loaded, details->'handOver'->>'ranOn' AS ran_on FROM inlet.ingestions`,
    );
    expect(ledger.rows).toEqual([{ id, status: 'loaded', rows_loaded: '20', ran_on: 'task' }]);
    // The API, the dashboard and `inlet ingestions` show where it ran, from the row.
    const [row] = await listIngestions(db.pool, { pipeline: 'orders', limit: 10 });
    expect(row && ingestionView(row).handOver).toMatchObject({
      ranOn: 'task',
      from: 'lambda',
      attempt: 1,
      runId: 'arn:aws:ecs:us-east-1:123456789012:task/inlet-handover/abc',
      reason: expect.stringContaining('above the Lambda limit'),
    });
  });

  it('a task handed an object that was overwritten since refuses it (source_changed) and loads nothing', async () => {
    ecsCalls.length = 0;
    const record = await putAndAnnounce('orders/changed.csv', BIG);
    expect(await handleEvent(sqs('m4', record), deps)).toEqual({ batchItemFailures: [] });
    const overrides = (ecsCalls[0]?.body.overrides ?? {}) as { containerOverrides?: { command: string[] }[] };
    const command = overrides.containerOverrides?.[0]?.command ?? [];
    const handedEtag = command[command.indexOf('--etag') + 1];
    expect(handedEtag).toBe(record.s3.object.eTag);
    // The key is overwritten before the task starts: its newer bytes come with their own event.
    await store.put('inbox', 'orders/changed.csv', `${BIG}999,9.99\n`);
    await expect(runTheTask(command, 'orders/changed.csv')).rejects.toMatchObject({ code: 'source_changed' });
    const rows = await db.pool.query(`SELECT count(*)::int AS n FROM public.orders`);
    expect(rows.rows).toEqual([{ n: 20 }]);
  });

  it('rejects an object past every limit, saying which and how to raise it, and does not retry it', async () => {
    const calls = ecsCalls.length;
    const record = await putAndAnnounce('orders/huge.parquet', 'PAR1 not really parquet PAR1 '.repeat(4));
    const response = await handleEvent(sqs('m3', record), { ...deps, taskMaxBytes: 100 });
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ecsCalls).toHaveLength(calls);
    const ledger = await db.pool.query(
      `SELECT status, error_code, error_message FROM inlet.ingestions WHERE source_uri LIKE '%huge.parquet'`,
    );
    expect(ledger.rows).toEqual([
      {
        status: 'rejected',
        error_code: 'object_too_large',
        error_message: expect.stringMatching(
          /limit of 100 bytes \(INLET_TASK_MAX_BYTES\).*Raise the task definition's ephemeral storage/,
        ),
      },
    ]);
  });

  it('loads an object under the limit in the function itself', async () => {
    const record = await putAndAnnounce('orders/small.csv', 'order_id,amount\n100,1\n');
    expect(await handleEvent(sqs('m2', record), deps)).toEqual({ batchItemFailures: [] });
    expect(ecsCalls).toHaveLength(1);
    const ledger = await db.pool.query(
      `SELECT status, details->'handOver' AS hand_over FROM inlet.ingestions WHERE source_uri LIKE '%small.csv'`,
    );
    expect(ledger.rows).toEqual([{ status: 'loaded', hand_over: null }]);
  });
});

/** The store, but every object comes a line at a time, 40 lines a second: a load of minutes, in small. */
function slowStore(): S3ObjectStore {
  const slow = Object.create(store) as S3ObjectStore;
  slow.get = async (bucket, key, options) => {
    const { body, info } = await store.get(bucket, key, options);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    const lines = Buffer.concat(chunks)
      .toString('utf8')
      .split(/(?<=\n)/);
    async function* dribble() {
      for (const line of lines) {
        await sleep(25);
        yield Buffer.from(line);
      }
    }
    return { body: Readable.from(dribble()), info };
  };
  return slow;
}

describe('the watchdog', () => {
  it('stops a load running out of time, rolls it back and hands it over; the task loads it once', async () => {
    ecsCalls.length = 0;
    const record = await putAndAnnounce('slow/numbers.csv', SLOW);
    // A fake invocation with 2 s left: the watchdog keeps half of it back and fires after about 1 s.
    const deadline = Date.now() + 2000;
    const started = Date.now();
    const response = await handleEvent(sqs('w1', record), {
      ...deps,
      store: slowStore(),
      remainingMs: () => Math.max(0, deadline - Date.now()),
    });
    expect(response).toEqual({ batchItemFailures: [] });
    // It gave up long before the 10 s the file would take, and before the fake timeout.
    expect(Date.now() - started).toBeLessThan(SLOW_ROWS * 25);
    expect(ecsCalls).toHaveLength(1);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.slow')).rows).toEqual([{ n: 0 }]);
    const handed = await db.pool.query(
      `SELECT id, status, details->'handOver'->>'reason' AS reason FROM inlet.ingestions WHERE pipeline = 'slow'`,
    );
    expect(handed.rows).toEqual([
      {
        id: expect.any(String),
        status: 'queued',
        reason: expect.stringContaining('the watchdog stopped loading'),
      },
    ]);

    const overrides = (ecsCalls[0]?.body.overrides ?? {}) as { containerOverrides: { command: string[] }[] };
    await runTheTask(overrides.containerOverrides[0]?.command ?? [], 'slow/numbers.csv', 1);
    // SQS delivers it again, to a function with all the time in the world: nothing more is loaded.
    expect(await handleEvent(sqs('w1', record), { ...deps, remainingMs: () => 900_000 })).toEqual({
      batchItemFailures: [],
    });
    expect(ecsCalls).toHaveLength(1);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.slow')).rows).toEqual([
      { n: SLOW_ROWS },
    ]);
    const ledger = await db.pool.query(
      `SELECT status, rows_loaded, details->'handOver'->>'ranOn' AS ran_on FROM inlet.ingestions WHERE pipeline = 'slow'`,
    );
    expect(ledger.rows).toEqual([{ status: 'loaded', rows_loaded: String(SLOW_ROWS), ran_on: 'task' }]);
  });
});
