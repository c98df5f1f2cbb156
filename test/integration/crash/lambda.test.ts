/**
 * F9, the Lambda door: the handler Lambda runs (`handleEvent`) gets an SQS batch whose messages carry S3
 * events for objects in a file store, in a child process (test/harness/lambda-child.ts) that is SIGKILLed
 * at seeded random points. As SQS does after the visibility timeout, the batch is then delivered again to
 * a fresh process, and so on; messages the handler returned as `batchItemFailures` are delivered again
 * too, until every message is deleted. Each batch also holds a message no one can read (it must fail every
 * time and load nothing) and, some runs, an object whose table appears only after the first complete
 * delivery (it fails, is redelivered, then loads). Every object of a deleted message must be loaded
 * exactly once with one final ledger row; after every kill nothing is in a table by half.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../../src/storage/file-store.js';
import { ROOT } from '../../harness/cli.js';
import {
  assertExactlyOnce,
  assertNothingHalfLoaded,
  bundleChild,
  type CrashFile,
  crashCsv,
  crashSeeds,
  describePlan,
  eachLine,
  exitOf,
  Marks,
  pipelineYaml,
  planKill,
  type Random,
  report,
  seeded,
} from '../../harness/crash.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

const SUITE = 'test/integration/crash/lambda.test.ts';
const BUCKET = 'inbox';
let db: TestDatabase;
let work: string;
/** test/harness/lambda-child.ts, bundled for plain node. */
let childScript: string;

beforeAll(async () => {
  childScript = await bundleChild(join(ROOT, 'test/harness/lambda-child.ts'));
  db = await createTestDatabase();
  work = await mkdtemp(join(tmpdir(), 'inlet-crash-lambda-'));
});
afterAll(async () => {
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Message {
  messageId: string;
  body: string;
  /** The objects its S3 event announces. */
  uris: string[];
}

function sqsEvent(messages: readonly Message[]) {
  return {
    Records: messages.map((m) => ({
      messageId: m.messageId,
      receiptHandle: `rh-${m.messageId}`,
      body: m.body,
      attributes: {},
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:inlet-inbox',
      awsRegion: 'us-east-1',
    })),
  };
}

function s3Record(key: string, size: number, sequencer: number) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName: 'ObjectCreated:Put',
    s3: {
      s3SchemaVersion: '1.0',
      bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
      object: {
        key: encodeURIComponent(key).replace(/%2F/g, '/'),
        size,
        sequencer: sequencer.toString(16).padStart(16, '0').toUpperCase(),
      },
    },
  };
}

interface Delivery {
  killed: boolean;
  response?: SQSBatchResponse;
  output: string;
}

async function deliver(
  dir: string,
  args: { store: string; config: string },
  messages: readonly Message[],
  plan: ReturnType<typeof planKill> | undefined,
  round: number,
): Promise<Delivery> {
  const eventFile = join(dir, `event-${round}.json`);
  await writeFile(eventFile, JSON.stringify(sqsEvent(messages)));
  const child = spawn(process.execPath, [childScript, db.url, args.store, args.config, eventFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, INLET_LOG_LEVEL: 'info' },
  });
  const exited = exitOf(child);
  const marks = new Marks();
  let output = '';
  let response: SQSBatchResponse | undefined;
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  eachLine(child.stdout, (line) => {
    const parsed = JSON.parse(line) as { message?: string; response?: SQSBatchResponse };
    if (parsed.response !== undefined) response = parsed.response;
    if (parsed.message === 'ingestion finished') marks.add();
    if (parsed.message !== 'ingestion finished' && parsed.response === undefined) output += `${line}\n`;
  });
  let killed = false;
  if (plan !== undefined) {
    await Promise.race([marks.reached(plan.afterMarks), exited]);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, plan.delayMs))]);
    killed = child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  }
  const exit = await exited;
  if (!killed) expect(exit.code, output).toBe(0);
  return { killed, output, ...(killed || response === undefined ? {} : { response }) };
}

async function crashRun(random: Random, seed: number): Promise<void> {
  const dir = join(work, `run-${seed}`);
  const storeRoot = join(dir, 'store');
  const store = new FileObjectStore(storeRoot);
  await store.createBucket(BUCKET);
  const tables = {
    append: `public.crash_l_a_${seed}`,
    upsert: `public.crash_l_u_${seed}`,
    late: `public.crash_l_late_${seed}`,
  };
  const pipelines = [`crash_l_a_${seed}`, `crash_l_u_${seed}`, `crash_l_late_${seed}`];
  const configFile = join(dir, 'inlet.config.yaml');
  await writeFile(
    configFile,
    `pipelines:\n${pipelineYaml({ name: pipelines[0] as string, table: tables.append, match: ['a/**'] })}${pipelineYaml(
      { name: pipelines[1] as string, table: tables.upsert, match: ['u/**'], mode: 'upsert' },
    )}${pipelineYaml({ name: pipelines[2] as string, table: tables.late, match: ['late/**'] }).replace(
      'createTable: true',
      'createTable: false',
    )}`,
  );

  const files: CrashFile[] = [];
  const late = new Set<string>();
  const keys: { key: string; size: number }[] = [];
  const count = random.int(3, 6);
  const withLate = random.chance(0.5);
  for (let i = 0; i < count; i++) {
    const prefix = withLate && i === count - 1 ? 'late' : random.chance(0.75) ? 'a' : 'u';
    const key = `${prefix}/o${i} ${seed}.csv`;
    const name = `o${i}-${seed}`;
    const rows = random.int(1_000, 8_000);
    const body = crashCsv(name, rows);
    await store.put(BUCKET, key, body);
    const uri = store.objectUri(BUCKET, key);
    files.push({ uri, file: name, rows });
    if (prefix === 'late') late.add(uri);
    keys.push({ key, size: Buffer.byteLength(body) });
  }
  // Mostly one record per message, sometimes two, as S3 notifications may carry.
  const messages: Message[] = [];
  for (let i = 0; i < keys.length; ) {
    const take = i + 1 < keys.length && random.chance(0.25) ? 2 : 1;
    const slice = keys.slice(i, i + take);
    messages.push({
      messageId: `m${i}-${seed}`,
      body: JSON.stringify({ Records: slice.map((k, j) => s3Record(k.key, k.size, i + j + 1)) }),
      uris: slice.map((k) => store.objectUri(BUCKET, k.key)),
    });
    i += take;
  }
  const poison: Message = { messageId: `poison-${seed}`, body: '{"Records": [', uris: [] };
  messages.splice(random.int(0, messages.length), 0, poison);

  const check = { pool: db.pool, pipelines, tables: Object.values(tables), files };
  const queue = new Map(messages.map((m) => [m.messageId, m]));
  const acknowledged = new Set<string>();
  const kills = random.int(1, 2);
  const log: string[] = [];
  let lateTableMade = false;
  // Bounded: the kills, then as many deliveries as retries can need.
  for (let round = 0; round < kills + 6 && [...queue.keys()].some((id) => id !== poison.messageId); round++) {
    const plan = round < kills ? planKill(random, count - 1, 300) : undefined;
    const batch = [...queue.values()];
    const delivery = await deliver(dir, { store: storeRoot, config: configFile }, batch, plan, round);
    log.push(
      `delivery ${round} of ${batch.length}: ${plan ? `kill ${describePlan(plan)}, ` : ''}${delivery.killed ? 'killed' : `failures ${JSON.stringify(delivery.response?.batchItemFailures)}`}`,
    );
    if (delivery.killed) {
      await assertNothingHalfLoaded(check);
      continue;
    }
    const failed = new Set((delivery.response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    expect(
      failed.has(poison.messageId),
      `the unreadable message fails every delivery (${log.join('; ')})`,
    ).toBe(true);
    for (const message of batch) {
      if (failed.has(message.messageId)) continue;
      queue.delete(message.messageId);
      for (const uri of message.uris) acknowledged.add(uri);
    }
    if (!lateTableMade) {
      await db.pool.query(`CREATE TABLE ${tables.late} (file text NOT NULL, n integer NOT NULL, pad text)`);
      lateTableMade = true;
    }
  }
  expect([...queue.keys()], `only the unreadable message is left (${log.join('; ')})`).toEqual([
    poison.messageId,
  ]);
  expect(acknowledged, log.join('; ')).toEqual(new Set(files.map((f) => f.uri)));
  report(seed, log);
  await assertExactlyOnce({ ...check, acknowledged, mayHaveFailedAttempts: late });
}

describe('F9 crash suite: the Lambda handler fed SQS batches', () => {
  it.each(crashSeeds(8))(
    'kill -9 mid-batch, redeliver: every object exactly once (seed %i)',
    (seed) => seeded(SUITE, seed, (random) => crashRun(random, seed)),
    120_000,
  );
});
