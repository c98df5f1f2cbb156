/**
 * `inlet ingest` with INLET_NOTIFY_TOPIC_ARN set announces each file's ingestion on the SNS topic, as the
 * Lambda does: the hand-over task runs `inlet ingest`, and a file it loads must be heard of like any other.
 * SNS is a stand-in on loopback (AWS_ENDPOINT_URL_SNS), answering Publish as SNS documents it, in the query
 * protocol or in JSON, whichever the SDK speaks.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInlet } from '../../harness/cli.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:inlet-events';

let db: TestDatabase;
let dir: string;
let sns: Server;
const published: { topicArn: string | undefined; message: string | undefined }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'inlet-cli-notify-'));
  await writeFile(
    join(dir, 'inlet.config.yaml'),
    'pipelines:\n  - name: orders\n    match: ["**/orders*.csv"]\n    table: public.notified_orders\n    createTable: true\n    columns:\n      - { name: order_id, type: bigint }\n      - { name: amount, type: "numeric(12,2)" }\n',
  );
  await writeFile(join(dir, 'orders-1.csv'), 'order_id,amount\n1,1.50\n2,2.50\n3,3.50\n');
  sns = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      if ((request.headers['content-type'] ?? '').includes('json')) {
        const json = JSON.parse(body) as { TopicArn?: string; Message?: string };
        published.push({ topicArn: json.TopicArn, message: json.Message });
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ MessageId: `m-${published.length}` }));
        return;
      }
      const form = new URLSearchParams(body);
      published.push({
        topicArn: form.get('TopicArn') ?? undefined,
        message: form.get('Message') ?? undefined,
      });
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-${published.length}</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => sns.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => sns?.close(resolve));
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('inlet ingest with INLET_NOTIFY_TOPIC_ARN', () => {
  it('publishes each ingestion on the topic, with its status and rows', async () => {
    const run = await runInlet(
      ['ingest', join(dir, 'orders-1.csv'), '--config', join(dir, 'inlet.config.yaml'), '--json'],
      {
        ...process.env,
        DATABASE_URL: db.url,
        INLET_NOTIFY_TOPIC_ARN: TOPIC,
        AWS_ENDPOINT_URL_SNS: `http://127.0.0.1:${(sns.address() as AddressInfo).port}`,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'notify-test',
        AWS_SECRET_ACCESS_KEY: 'notify-test-secret',
      },
    );
    expect(run.stderr).not.toMatch(/could not publish/);
    const printed = JSON.parse(run.stdout.trim().split('\n')[0] ?? '{}') as { ingestionId: string };
    expect(published).toHaveLength(1);
    expect(published[0]?.topicArn).toBe(TOPIC);
    expect(JSON.parse(published[0]?.message ?? '{}')).toMatchObject({
      type: 'inlet.ingestion.finished',
      ingestionId: printed.ingestionId,
      pipeline: 'orders',
      status: 'loaded',
      rowsLoaded: 3,
      rowsRejected: 0,
    });
  });

  it('publishes nothing without the setting', async () => {
    const before = published.length;
    await writeFile(join(dir, 'orders-2.csv'), 'order_id,amount\n4,4.50\n');
    const run = await runInlet(
      ['ingest', join(dir, 'orders-2.csv'), '--config', join(dir, 'inlet.config.yaml')],
      {
        ...process.env,
        DATABASE_URL: db.url,
        AWS_ENDPOINT_URL_SNS: `http://127.0.0.1:${(sns.address() as AddressInfo).port}`,
      },
    );
    expect(run.code).toBe(0);
    expect(published).toHaveLength(before);
  });
});
