/**
 * SNS cannot run here: the SDK client's transport is stubbed and each request is checked against the
 * documented Publish action (query protocol, form-encoded, XML answer).
 */
import { Readable } from 'node:stream';
import { SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import type { IngestResult } from '../../../src/model/ingestion.js';
import { createLogger } from '../../../src/observability/logger.js';
import { notifierFor, SnsNotifier } from '../../../src/observability/notify.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:inlet-ingestions';

const PUBLISH_RESPONSE = `<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/">
  <PublishResult><MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId></PublishResult>
  <ResponseMetadata><RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId></ResponseMetadata>
</PublishResponse>`;

function stubbed(status = 200, body = PUBLISH_RESPONSE) {
  const forms: URLSearchParams[] = [];
  const client = new SNSClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: {
      handle: async (request: { method: string; headers: Record<string, string>; body?: unknown }) => {
        expect(request.method).toBe('POST');
        expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
        forms.push(new URLSearchParams(String(request.body)));
        return {
          response: {
            statusCode: status,
            headers: { 'content-type': 'text/xml' },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
    } as never,
  });
  return { client, forms };
}

const RESULT: IngestResult = {
  source: 's3://inbox/orders/2026-11-25 orders.csv',
  pipeline: 'orders',
  status: 'rejected',
  ingestionId: '01a2140d-26a3-7000-b6b1-9d6533d51d4f',
  rowsLoaded: 0,
  rowsRejected: 7,
  bytes: 2110,
  durationMs: 35,
  error: { code: 'too_many_rejects', message: '7 of 40 rows were rejected; the pipeline allows 1%.' },
  rejects: [{ line: 3, record: 2, column: 'amount', value: 'abc', reason: 'not a number' }],
};

describe('SnsNotifier', () => {
  it('publishes one message per ingestion with status and pipeline as filterable attributes', async () => {
    const { client, forms } = stubbed();
    await new SnsNotifier(TOPIC, createLogger({}, 'silent'), client).ingestionFinished(RESULT);
    expect(forms).toHaveLength(1);
    const form = forms[0] as URLSearchParams;
    expect(form.get('Action')).toBe('Publish');
    expect(form.get('Version')).toBe('2010-03-31');
    expect(form.get('TopicArn')).toBe(TOPIC);
    expect(form.get('Subject')).toBe('Inlet: rejected 2026-11-25 orders.csv');
    expect(form.get('MessageAttributes.entry.1.Name')).toBe('status');
    expect(form.get('MessageAttributes.entry.1.Value.DataType')).toBe('String');
    expect(form.get('MessageAttributes.entry.1.Value.StringValue')).toBe('rejected');
    expect(form.get('MessageAttributes.entry.2.Name')).toBe('pipeline');
    expect(form.get('MessageAttributes.entry.2.Value.StringValue')).toBe('orders');
    expect(JSON.parse(form.get('Message') ?? '')).toEqual({
      type: 'inlet.ingestion.finished',
      ingestionId: RESULT.ingestionId,
      pipeline: 'orders',
      source: RESULT.source,
      status: 'rejected',
      rowsLoaded: 0,
      rowsRejected: 7,
      bytes: 2110,
      durationMs: 35,
      error: RESULT.error,
      firstRejects: RESULT.rejects,
    });
  });

  it('says which columns a file added to its table (onDrift: evolve), with the DDL and the contract version', async () => {
    const { client, forms } = stubbed();
    const contractChange = {
      version: 3,
      columns: [{ name: 'channel', type: 'text', source: 'Channel' }],
      ddl: 'ALTER TABLE "public"."orders" ADD COLUMN "channel" text',
    };
    await new SnsNotifier(TOPIC, createLogger({}, 'silent'), client).ingestionFinished({
      ...RESULT,
      status: 'loaded',
      contractChange,
    });
    expect(JSON.parse(forms[0]?.get('Message') ?? '')).toMatchObject({ status: 'loaded', contractChange });
  });

  it('keeps the subject within what SNS accepts: ASCII, one line, 100 characters', async () => {
    const { client, forms } = stubbed();
    await new SnsNotifier(TOPIC, createLogger({}, 'silent'), client).ingestionFinished({
      ...RESULT,
      source: `upload:///${'é'.repeat(200)}\n.csv`,
    });
    const subject = forms[0]?.get('Subject') ?? '';
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('logs a refused publish and does not throw: a notification never fails an ingestion', async () => {
    const lines: string[] = [];
    const { client } = stubbed(
      403,
      '<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>not allowed</Message></Error><RequestId>x</RequestId></ErrorResponse>',
    );
    const notifier = new SnsNotifier(
      TOPIC,
      createLogger({}, 'warn', (line) => lines.push(line)),
      client,
    );
    await expect(notifier.ingestionFinished(RESULT)).resolves.toBeUndefined();
    expect(lines.join('')).toContain('could not publish the ingestion notification');
    expect(lines.join('')).toContain(TOPIC);
  });

  it('is made for a topic, and there is none without one', () => {
    const logger = createLogger({}, 'silent');
    expect(notifierFor(undefined, logger)).toBeUndefined();
    expect(notifierFor(TOPIC, logger)).toBeInstanceOf(SnsNotifier);
  });
});
