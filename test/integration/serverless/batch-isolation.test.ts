/**
 * One SQS message whose processing throws (here the object store fails for its key) must not fail its batch:
 * that message alone goes into batchItemFailures, with its id in the error log, and its healthy neighbours
 * are loaded and acknowledged on their own merits, so SQS does not redeliver them. The failed object is
 * counted in `files_failed`, the metric its alarm watches (the function's Errors metric never sees it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import type { Logger } from '../../../src/observability/logger.js';
import { handleEvent, type MetricsSink } from '../../../src/serverless/handler.js';
import { FileObjectStore } from '../../../src/storage/file-store.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

const CONFIG = `
pipelines:
  - name: batched
    match: ["in/**"]
    table: public.batched
    createTable: true
    columns:
      - { name: id, type: bigint, nullable: false }
`;

let work: string;
let db: TestDatabase;
let files: FileObjectStore;

interface Line {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

function recordingLogger(lines: Line[], bound: Record<string, unknown> = {}): Logger {
  const log =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields: { ...bound, ...fields } });
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => recordingLogger(lines, { ...bound, ...fields }),
  };
}

/** The file store, except that every call about `poisoned` throws as a broken S3 client would. */
function failingFor(store: FileObjectStore, poisoned: string): ObjectStore {
  const wrapper = Object.create(store) as FileObjectStore;
  const boom = (key: string) => {
    if (key === poisoned) throw new Error(`store unavailable for ${key} (test)`);
  };
  wrapper.head = async (bucket, key, options) => {
    boom(key);
    return store.head(bucket, key, options);
  };
  return wrapper;
}

function message(messageId: string, key: string) {
  const record = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    eventName: 'ObjectCreated:Put',
    eventTime: new Date().toISOString(),
    s3: { bucket: { name: 'inbox' }, object: { key } },
  };
  return { messageId, eventSource: 'aws:sqs', body: JSON.stringify({ Records: [record] }) };
}

describe('an SQS batch with one message that throws', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'inlet-batch-'));
    db = await createTestDatabase();
    files = new FileObjectStore(work);
    await files.createBucket('inbox');
    for (const name of ['a', 'poison', 'c']) await files.put('inbox', `in/${name}.csv`, `id\n1\n2\n`);
  });

  afterAll(async () => {
    await db?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('fails only that message, loads the others once, and logs the error with the message id', async () => {
    const lines: Line[] = [];
    const counts: Array<[string, number]> = [];
    const metrics: MetricsSink = { count: (name, value) => counts.push([name, value]) };
    const deps = {
      store: failingFor(files, 'in/poison.csv'),
      config: parseConfig(CONFIG, 'batch test'),
      pool: db.pool,
      logger: recordingLogger(lines),
      metrics,
    };
    const event = {
      Records: [message('m1', 'in/a.csv'), message('m2', 'in/poison.csv'), message('m3', 'in/c.csv')],
    } as unknown as SQSEvent;

    expect(await handleEvent(event, deps)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });

    const ledger = await db.pool.query<{ source_uri: string; status: string }>(
      'SELECT source_uri, status FROM inlet.ingestions ORDER BY source_uri',
    );
    expect(ledger.rows.map((r) => [r.source_uri.replace(/^.*\/inbox\//, ''), r.status])).toEqual([
      ['in/a.csv', 'loaded'],
      ['in/c.csv', 'loaded'],
    ]);
    const rows = await db.pool.query('SELECT count(*)::int AS n FROM public.batched');
    expect(rows.rows[0].n).toBe(4);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({ messageId: 'm2', error: expect.any(Error) }),
      }),
    ]);
    expect(String((errors[0]?.fields.error as Error | undefined)?.message)).toMatch(
      /store unavailable for in\/poison\.csv/,
    );
    expect(counts.filter(([name]) => name === 'files_failed')).toEqual([['files_failed', 1]]);
    counts.length = 0;

    // Redelivered alone once the store answers again, it loads; the others are not touched again.
    const healed = { ...deps, store: files };
    const again = { Records: [message('m2', 'in/poison.csv')] } as unknown as SQSEvent;
    expect(await handleEvent(again, healed)).toEqual({ batchItemFailures: [] });
    const after = await db.pool.query('SELECT count(*)::int AS n FROM public.batched');
    expect(after.rows[0].n).toBe(6);
    expect(counts.filter(([name]) => name === 'files_failed')).toEqual([]);
  });
});
