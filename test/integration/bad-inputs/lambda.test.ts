/**
 * Bad inputs through the Lambda door: `handleEvent` (the code the function runs) fed SQS batches that carry
 * S3 notifications, as S3 → SQS → Lambda delivers them, for objects held by the local S3 gateway (a real
 * S3 API on 127.0.0.1, read through the same S3 client as on AWS). For each input: whether its message is
 * in `batchItemFailures` (only what should be delivered again), its ledger row under
 * `s3://inbox/<key percent-encoded>` with its status and error code, and what its table holds. The inputs
 * are test/harness/bad-inputs.ts's, the same bytes every door is fed.
 */
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../src/gateway/server.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { type HandlerDeps, handleEvent } from '../../../src/serverless/handler.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import {
  B,
  badInputConfig,
  encodeKeyPath,
  expectedMainRows,
  HOSTILE_NAMES,
  hostileNameContent,
  ledgerRows,
  PLUS_SPACE_KEY,
  TABLES,
  tableRows,
  VERDICTS,
} from '../../harness/bad-inputs.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { makeDataDir } from '../gateway/harness.js';

const BUCKET = 'inbox';
const credentials = { accessKeyId: 'bad-inputs-lambda', secretAccessKey: 'bad-inputs-lambda-secret' };

type Key = keyof typeof B;

/** The inputs that go through this door; B19's full export goes first, in its own batch. */
const INPUTS: readonly Key[] = [
  'empty',
  'gzipBomb',
  'png',
  'noise',
  'formula',
  'nulAndInvalidUtf8',
  'windows1252Semicolons',
  'utf16Tabs',
  'truncatedGzip',
  'truncatedParquet',
  'corruptXlsx',
  'replaceHeaderOnly',
  'replaceTruncated',
  'ratioGzip',
  'ratioDeflate',
  'ratioBrotli',
  'ratioZip',
];

let db: TestDatabase;
let gateway: Gateway;
let store: S3ObjectStore;
let deps: HandlerDeps;
let dataDir: string;

/** A key as S3 writes it into an event: form-encoded, a space as `+`, a `+` as `%2B`, `/` kept. */
function eventKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replaceAll('%20', '+'))
    .join('/');
}

function s3Record(key: string) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName: 'ObjectCreated:Put',
    s3: { s3SchemaVersion: '1.0', bucket: { name: BUCKET }, object: { key: eventKey(key) } },
  };
}

/** An SQS event of one message per body, with message ids m0, m1, … */
function sqsBatch(bodies: readonly string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m${i}`,
      receiptHandle: `r${i}`,
      body,
      attributes: {},
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:inlet-inbox',
      awsRegion: 'us-east-1',
    })),
  } as unknown as SQSEvent;
}

const notification = (key: string) => JSON.stringify({ Records: [s3Record(key)] });
const sourceOf = (key: string) => `s3://${BUCKET}/${encodeKeyPath(key)}`;

async function failures(bodies: readonly string[]): Promise<string[]> {
  const response = await handleEvent(sqsBatch(bodies), deps);
  return (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
}

let mainBatchFailures: string[];

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await makeDataDir();
  gateway = await startGateway({ dataDir, credentials, buckets: [BUCKET] });
  store = new S3ObjectStore({
    endpoint: gateway.endpoint,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
  });
  deps = { store, config: badInputConfig(), pool: db.pool, logger: silentLogger };
  for (const key of [...INPUTS, 'replaceFull' as const]) await store.put(BUCKET, B[key].name, B[key].bytes());
  expect(await failures([notification(B.replaceFull.name)])).toEqual([]);
  // One batch, one message per input: a rejected file is acknowledged, as its ledger row says why.
  mainBatchFailures = await failures(INPUTS.map((key) => notification(B[key].name)));
}, 60_000);

afterAll(async () => {
  store?.close();
  await gateway?.close();
  await db?.drop();
  const { rm } = await import('node:fs/promises');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('an SQS batch of bad files: each acknowledged, each with its ledger row and code', () => {
  it('reports no batchItemFailures: a rejected file is not worth delivering again', () => {
    expect(mainBatchFailures).toEqual([]);
  });

  it.each(INPUTS.map((key) => [B[key].label, key] as const))('%s', async (_label, key) => {
    const verdict = VERDICTS[key];
    const rows = await ledgerRows(db.pool, sourceOf(B[key].name));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      pipeline: key.startsWith('replace') ? 'replace' : key === 'gzipBomb' ? 'capped' : 'main',
      status: verdict.status,
      error_code: verdict.code ?? null,
      rows_loaded: verdict.rowsLoaded,
    });
    if (verdict.message !== undefined) expect(rows[0]?.error_message).toMatch(verdict.message);
  });

  it('leaves main with exactly the rows of the files that loaded, capped empty, replace untouched', async () => {
    expect(await tableRows(db.pool, TABLES.main)).toEqual(expectedMainRows(INPUTS));
    expect(await tableRows(db.pool, TABLES.capped)).toEqual([]);
    expect(await tableRows(db.pool, TABLES.replace)).toEqual(['1:a', '2:b', '3:c', '4:d']);
  });
});

describe('keys and messages', () => {
  it('B7: a key announced as a+b c.csv (a%2Bb+c.csv in the event) is loaded under exactly that name', async () => {
    await store.put(BUCKET, PLUS_SPACE_KEY, Buffer.from('id,note\n701,plus space\n'));
    expect(eventKey(PLUS_SPACE_KEY)).toBe('a%2Bb+c.csv');
    expect(await failures([notification(PLUS_SPACE_KEY)])).toEqual([]);
    expect(await ledgerRows(db.pool, 's3://inbox/a%2Bb%20c.csv')).toMatchObject([
      { status: 'loaded', rows_loaded: 1, error_code: null },
    ]);
  });

  it('B8: s3:TestEvent is acknowledged and writes nothing', async () => {
    const before = await db.pool.query('SELECT count(*)::int AS n FROM inlet.ingestions');
    const testEvent = JSON.stringify({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: new Date().toISOString(),
      Bucket: BUCKET,
      RequestId: 'R',
      HostId: 'H',
    });
    expect(await failures([testEvent])).toEqual([]);
    const after = await db.pool.query('SELECT count(*)::int AS n FROM inlet.ingestions');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('B5/B17: hostile keys (NUL, control characters, ../, 300 characters) each get a percent-encoded ledger row', async () => {
    const keys = HOSTILE_NAMES.map((n) => n.name.replace(/^(\.\.\/)+/, 'up/../'));
    for (const [i, key] of keys.entries()) await store.put(BUCKET, key, hostileNameContent(i));
    expect(await failures(keys.map((key) => notification(key)))).toEqual([]);
    for (const [i, key] of keys.entries()) {
      const source = sourceOf(key);
      expect(source, HOSTILE_NAMES[i]?.label).toMatch(/^s3:\/\/inbox\/[\x21-\x7e]+$/);
      expect(await ledgerRows(db.pool, source), HOSTILE_NAMES[i]?.label).toMatchObject([
        { status: 'loaded', rows_loaded: 1 },
      ]);
    }
  });

  it('fails only the malformed message and the poison one; their healthy neighbours are loaded and acknowledged', async () => {
    await store.put(BUCKET, B.poison.name, B.poison.bytes());
    await store.put(BUCKET, 'neighbour-1.csv', Buffer.from('id,note\n801,left\n'));
    await store.put(BUCKET, 'neighbour-2.csv', Buffer.from('id,note\n802,right\n'));
    const batch = [
      notification('neighbour-1.csv'),
      'this is not JSON',
      notification(B.poison.name),
      JSON.stringify({ hello: 'a JSON body that is no S3 notification' }),
      notification('neighbour-2.csv'),
    ];
    expect(await failures(batch)).toEqual(['m1', 'm2', 'm3']);
    for (const key of ['neighbour-1.csv', 'neighbour-2.csv']) {
      expect(await ledgerRows(db.pool, sourceOf(key)), key).toMatchObject([
        { status: 'loaded', rows_loaded: 1 },
      ]);
    }
    expect(await ledgerRows(db.pool, sourceOf(B.poison.name))).toMatchObject([
      { status: VERDICTS.poison.status, error_code: VERDICTS.poison.code },
    ]);
    // Delivered again, the healthy ones are duplicates (acknowledged); only the poison fails again.
    expect(await failures([notification('neighbour-1.csv'), notification(B.poison.name)])).toEqual(['m1']);
  });
});
