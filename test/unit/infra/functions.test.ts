/** The API's Lambda handlers (infra/functions/), without AWS: signing is checked by the local S3 gateway's verifier. */
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeKey, presignPut } from '../../../infra/functions/presign.js';
import { handler as presignHandler } from '../../../infra/functions/presign-upload.js';
import { InvalidNameError, uploadKey } from '../../../infra/functions/upload-key.js';
import { RequestAuthenticator } from '../../../src/gateway/auth.js';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

describe('upload names', () => {
  it('keeps a reasonable name as the key, slashes and spaces included', () => {
    expect(uploadKey('orders/2026-11 export.csv')).toBe('orders/2026-11 export.csv');
  });

  it.each([
    ['', /non-empty/],
    ['/etc/passwd', /start with/],
    ['orders/../secrets.csv', /segments/],
    ['a//b.csv', /segments/],
    ['processed/orders.csv', /never ingested/],
    ['rejected/x.csv', /never ingested/],
    ['bad\u0000name.csv', /control characters/],
    ['x'.repeat(1025), /1024 bytes/],
  ])('refuses %j', (name, message) => {
    expect(() => uploadKey(name)).toThrow(InvalidNameError);
    expect(() => uploadKey(name)).toThrow(message);
  });
});

describe('presigned PUT URLs', () => {
  const now = new Date();

  it('escapes keys segment by segment, as S3 signs them', () => {
    expect(encodeKey("a b/c+d/(e)'!*.csv")).toBe('a%20b/c%2Bd/%28e%29%27%21%2A.csv');
  });

  it('is a URL S3 accepts: verified by the gateway with the same credentials, metadata signed in', async () => {
    const url = new URL(
      await presignPut({
        bucket: 'inlet-inbox-123456789012-us-east-1',
        key: 'orders/Nov 2026+final.csv',
        region: 'us-east-1',
        credentials: { ...credentials, sessionToken: 'session/token+=' },
        expiresInSeconds: 900,
        metadata: { 'inlet-requested-by': 'arn:aws:iam::123456789012:role/client' },
        now,
      }),
    );
    expect(url.host).toBe('inlet-inbox-123456789012-us-east-1.s3.us-east-1.amazonaws.com');
    expect(url.pathname).toBe('/orders/Nov%202026%2Bfinal.csv');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('session/token+=');
    expect(url.searchParams.get('x-amz-meta-inlet-requested-by')).toBe(
      'arn:aws:iam::123456789012:role/client',
    );
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');

    const query = Object.fromEntries(url.searchParams.entries());
    const request = { method: 'PUT', headers: { host: url.host } } as unknown as IncomingMessage;
    const verifier = new RequestAuthenticator(credentials);
    await expect(verifier.verify(request, url.pathname, query, now)).resolves.toMatchObject({
      payloadHash: 'UNSIGNED-PAYLOAD',
    });
    // A client that changes the key or the metadata breaks the signature.
    await expect(verifier.verify(request, '/orders/other.csv', query, now)).rejects.toThrow();
    await expect(
      verifier.verify(request, url.pathname, { ...query, 'x-amz-meta-inlet-requested-by': 'someone' }, now),
    ).rejects.toThrow();
  });
});

describe('POST /uploads handler', () => {
  beforeEach(() => {
    vi.stubEnv('INLET_INBOX_BUCKET', 'inbox-bucket');
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', 'token');
  });
  afterEach(() => vi.unstubAllEnvs());

  const event = (body: string | null) =>
    ({
      body,
      requestContext: { identity: { userArn: 'arn:aws:iam::1:role/client' } },
    }) as unknown as APIGatewayProxyEvent;

  it('answers 201 with the key, a PUT URL and where to follow the ingestion', async () => {
    const response = await presignHandler(event('{"name":"orders/a.csv"}'));
    expect(response.statusCode).toBe(201);
    const body = JSON.parse(response.body) as Record<string, string>;
    expect(body).toMatchObject({
      key: 'orders/a.csv',
      method: 'PUT',
      status: '/ingestions?key=orders%2Fa.csv',
    });
    expect(body.url).toMatch(/^https:\/\/inbox-bucket\.s3\.eu-west-1\.amazonaws\.com\/orders\/a\.csv\?/);
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
});
