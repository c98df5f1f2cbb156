import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../src/gateway/server.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import { createTestDatabase } from '../../harness/db.js';
import { flat, parquetFile } from '../../harness/parquet.js';

const run = promisify(execFile);
const credentials = { accessKeyId: 'bundle-test', secretAccessKey: 'bundle-test-secret' };

let work: string;
let gateway: Gateway;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const announced: S3EventRecord[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'inlet-bundle-'));
  await chmod(work, 0o755);
  gateway = await startGateway({
    dataDir: join(work, 's3'),
    credentials,
    buckets: ['inbox'],
    onObjectCreated: async (record) => {
      announced.push(record as S3EventRecord);
    },
  });
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
  await gateway?.close();
  await rm(work, { recursive: true, force: true });
});

describe('the Lambda bundle', () => {
  it('builds with esbuild, and its handler loads S3 objects in a fresh Node process, Parquet from a chunk loaded on demand', async () => {
    const bundle = join(work, 'lambda', 'index.mjs');
    await run(process.execPath, ['scripts/build-lambda.mjs', bundle]);
    expect((await stat(bundle)).size).toBeLessThan(2 * 1024 * 1024);
    expect((await readdir(join(work, 'lambda', 'chunks'))).length).toBeGreaterThan(0);

    const store = new S3ObjectStore({
      endpoint: gateway.endpoint,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
    });
    await store.put(
      'inbox',
      'config/inlet.config.yaml',
      [
        'pipelines:',
        '  - name: bundled',
        '    match: ["incoming/**"]',
        '    table: public.bundled',
        '    createTable: true',
        '    columns: [{ name: id, type: integer, nullable: false }, { name: label, type: text }]',
        '',
      ].join('\n'),
    );
    await store.put('inbox', 'incoming/one.csv', 'id,label\n1,first\n2,second\n');
    await store.put(
      'inbox',
      'incoming/two.parquet',
      parquetFile({
        id: flat('id', { type: 'INT32' }, [3, 4], false),
        label: flat('label', { type: 'BYTE_ARRAY', converted_type: 'UTF8' }, ['third', 'fourth']),
      }),
    );
    const keys = ['incoming/one.csv', 'incoming/two.parquet'];
    const deadline = Date.now() + 5000;
    while (!keys.every((key) => announced.some((r) => r.s3.object.key === key)) && Date.now() < deadline)
      await sleep(10);
    const records = keys.map((key) => announced.find((r) => r.s3.object.key === key));
    expect(records.every((record) => record !== undefined)).toBe(true);

    // The function's own process: the bundle alone, configured only by its environment.
    const invoke = join(work, 'invoke.mjs');
    await writeFile(
      invoke,
      `const { handler } = await import(${JSON.stringify(bundle)});
       const event = JSON.parse(process.argv[2]);
       const sqs = { Records: event.Records.map((record, i) => ({ messageId: 'm' + i, eventSource: 'aws:sqs', body: JSON.stringify({ Records: [record] }) })) };
       process.stdout.write(JSON.stringify(await handler(sqs)) + '\\n');
       process.exit(0);`,
    );
    const { stdout } = await run(process.execPath, [invoke, JSON.stringify({ Records: records })], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: db.url,
        INLET_CONFIG: 's3://inbox/config/inlet.config.yaml',
        INLET_S3_ENDPOINT: gateway.endpoint,
        INLET_S3_ACCESS_KEY_ID: credentials.accessKeyId,
        INLET_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_REGION: 'us-east-1',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
    });
    expect(JSON.parse(stdout.trim().split('\n').at(-1) as string)).toEqual({ batchItemFailures: [] });
    const { rows } = await db.pool.query('SELECT id, label FROM bundled ORDER BY id');
    expect(rows).toEqual([
      { id: 1, label: 'first' },
      { id: 2, label: 'second' },
      { id: 3, label: 'third' },
      { id: 4, label: 'fourth' },
    ]);
  }, 60_000);
});
