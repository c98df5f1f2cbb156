/**
 * The API's Lambda handlers (infra/functions/), without AWS: the presigned POST's signature is checked
 * against SigV4 computed here from its definition, and its policy's conditions one by one.
 */
import { createHmac } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { statusDatabase } from '../../../infra/functions/ingestion-status.js';
import { presignPost } from '../../../infra/functions/presign-post.js';
import { handler as presignHandler } from '../../../infra/functions/presign-upload.js';
import { callerName, InvalidNameError, uploadKey } from '../../../infra/functions/upload-key.js';
import { routingName } from '../../../src/config/client-uploads.js';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

describe('upload keys', () => {
  it("puts a reasonable name under the caller's prefix, slashes and spaces included", () => {
    expect(uploadKey('orders/2026-11 export.csv', 'acme-uploader')).toBe(
      'clients/acme-uploader/orders/2026-11 export.csv',
    );
  });

  it('routes such a key on the name the client gave, and any other key on itself', () => {
    expect(routingName('clients/acme-uploader/orders/2026-11.csv')).toBe('orders/2026-11.csv');
    expect(routingName('orders/2026-11.csv')).toBe('orders/2026-11.csv');
    expect(routingName('clients/orders.csv')).toBe('clients/orders.csv');
  });

  it.each([
    ['', /non-empty/],
    ['/etc/passwd', /start with/],
    ['orders/../secrets.csv', /segments/],
    ['a//b.csv', /segments/],
    ['processed/orders.csv', /never ingested/],
    ['rejected/x.csv', /never ingested/],
    ['bad\u0000name.csv', /control characters/],
    ['x'.repeat(1012), /at most 1011 bytes/],
  ])('refuses %j', (name, message) => {
    expect(() => uploadKey(name, 'acme')).toThrow(InvalidNameError);
    expect(() => uploadKey(name, 'acme')).toThrow(message);
  });

  it.each([
    ['arn:aws:sts::123456789012:assumed-role/acme-uploader/session-42', 'acme-uploader'],
    ['arn:aws:iam::123456789012:user/partners/bob', 'bob'],
    ['arn:aws:sts::123456789012:federated-user/carol', 'carol'],
    ['arn:aws:iam::123456789012:root', 'root'],
    ['arn:aws:iam::123456789012:role/not-a-caller', undefined],
    ['arn:aws:sts::123456789012:assumed-role/../x', undefined],
    ['', undefined],
    [null, undefined],
  ])('names the caller of %j %j', (arn, name) => {
    expect(callerName(arn)).toBe(name);
  });
});

/** SigV4 as its definition gives it: HMAC-SHA256 down date, region, service, "aws4_request". */
function signatureOf(stringToSign: string, date: string, region: string): string {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  let key = hmac(`AWS4${credentials.secretAccessKey}`, date);
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('presigned POST', () => {
  const now = new Date('2026-12-07T10:11:12.345Z');

  it('binds the key, the bucket, the size range and the metadata, signed with the SigV4 key of the day', async () => {
    const { url, fields } = await presignPost({
      bucket: 'inlet-inbox-123456789012-eu-west-1',
      key: 'clients/acme/orders/Nov 2026.csv',
      region: 'eu-west-1',
      credentials: { ...credentials, sessionToken: 'session/token+=' },
      expiresInSeconds: 900,
      maxBytes: 1024,
      metadata: { 'inlet-requested-by': 'arn:aws:sts::123456789012:assumed-role/acme/s' },
      now,
    });
    expect(url).toBe('https://inlet-inbox-123456789012-eu-west-1.s3.eu-west-1.amazonaws.com/');
    expect(fields).toMatchObject({
      key: 'clients/acme/orders/Nov 2026.csv',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20261207/eu-west-1/s3/aws4_request',
      'X-Amz-Date': '20261207T101112Z',
      'X-Amz-Security-Token': 'session/token+=',
      'x-amz-meta-inlet-requested-by': 'arn:aws:sts::123456789012:assumed-role/acme/s',
    });
    expect(fields['X-Amz-Signature']).toBe(signatureOf(fields.Policy ?? '', '20261207', 'eu-west-1'));

    const policy = JSON.parse(Buffer.from(fields.Policy ?? '', 'base64').toString('utf8')) as {
      expiration: string;
      conditions: unknown[];
    };
    expect(policy.expiration).toBe('2026-12-07T10:26:12.345Z');
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        { bucket: 'inlet-inbox-123456789012-eu-west-1' },
        { key: 'clients/acme/orders/Nov 2026.csv' },
        ['content-length-range', 1, 1024],
        { 'x-amz-meta-inlet-requested-by': 'arn:aws:sts::123456789012:assumed-role/acme/s' },
        { 'X-Amz-Security-Token': 'session/token+=' },
      ]),
    );
    // Every field the client sends, but the policy and signature themselves, is pinned by a condition.
    const pinned = new Set(
      policy.conditions.flatMap((condition) =>
        Array.isArray(condition) ? [] : Object.keys(condition as object),
      ),
    );
    for (const name of Object.keys(fields)) {
      if (name !== 'Policy' && name !== 'X-Amz-Signature') expect(pinned, name).toContain(name);
    }
  });
});

describe('POST /uploads handler', () => {
  beforeEach(() => {
    vi.stubEnv('INLET_INBOX_BUCKET', 'inbox-bucket');
    vi.stubEnv('INLET_UPLOAD_MAX_BYTES', '2048');
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', 'token');
  });
  afterEach(() => vi.unstubAllEnvs());

  const caller = 'arn:aws:sts::123456789012:assumed-role/client/session';
  const event = (body: string | null, userArn: string | null = caller) =>
    ({ body, requestContext: { identity: { userArn } } }) as unknown as APIGatewayProxyEvent;

  it("answers 201 with the caller's key, a presigned POST and where to follow the ingestion", async () => {
    const response = await presignHandler(event('{"name":"orders/a.csv"}'));
    expect(response.statusCode).toBe(201);
    const body = JSON.parse(response.body) as { fields: Record<string, string> } & Record<string, unknown>;
    expect(body).toMatchObject({
      key: 'clients/client/orders/a.csv',
      method: 'POST',
      url: 'https://inbox-bucket.s3.eu-west-1.amazonaws.com/',
      maxBytes: 2048,
      status: '/ingestions?key=clients%2Fclient%2Forders%2Fa.csv',
    });
    expect(body.fields).toMatchObject({
      key: 'clients/client/orders/a.csv',
      'x-amz-meta-inlet-requested-by': caller,
    });
    const policy = Buffer.from(body.fields.Policy ?? '', 'base64').toString('utf8');
    expect(policy).toContain('["content-length-range",1,2048]');
    expect(response.headers?.['cache-control']).toBe('no-store');
  });

  it('answers 400 with the error shape and codes of the server API for a bad name or body', async () => {
    const badName = await presignHandler(event('{"name":"processed/a.csv"}'));
    expect(badName.statusCode).toBe(400);
    expect(JSON.parse(badName.body)).toMatchObject({ error: { code: 'invalid_name' } });
    for (const body of ['not json', null]) {
      const response = await presignHandler(event(body));
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'invalid_request' } });
    }
  });

  it('answers 403 when the caller has no IAM name to bind the key to', async () => {
    const response = await presignHandler(event('{"name":"orders/a.csv"}', null));
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'unknown_caller' } });
  });
});

describe('status function', () => {
  it('connects with the secret it is given to the proxy, not to the instance the secret names', () => {
    const env = { INLET_DATABASE_SECRET_ARN: 'arn:secret', INLET_DATABASE_HOST: 'proxy.example ' };
    expect(statusDatabase(env)).toEqual({ secretArn: 'arn:secret', host: 'proxy.example' });
    expect(() => statusDatabase({ INLET_DATABASE_SECRET_ARN: 'arn:secret' })).toThrow(/INLET_DATABASE_HOST/);
  });
});
