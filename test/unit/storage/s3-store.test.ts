import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ObjectNotFoundError } from '../../../src/storage/errors.js';
import { S3ObjectStore, s3Error } from '../../../src/storage/s3-store.js';

function serviceError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

describe('s3Error', () => {
  const context = {
    action: 'read' as const,
    bucket: 'inbox',
    key: 'a.csv',
    endpoint: 'http://localhost:9000',
  };

  it('turns NoSuchKey and a bare 404 into ObjectNotFoundError', () => {
    expect(s3Error(serviceError('NoSuchKey', 404), context)).toBeInstanceOf(ObjectNotFoundError);
    expect(s3Error(serviceError('NotFound', 404), context)).toBeInstanceOf(ObjectNotFoundError);
  });

  it('names the missing bucket and what to check', () => {
    const error = s3Error(serviceError('NoSuchBucket', 404), context);
    expect(error.code).toBe('bucket_not_found');
    expect(error.message).toContain('bucket "inbox" does not exist at http://localhost:9000');
    expect(error.message).toContain('INLET_S3_ENDPOINT');
  });

  it('says which permission is missing on AccessDenied, and that 403 can mean a missing key', () => {
    const error = s3Error(serviceError('AccessDenied', 403), context);
    expect(error.code).toBe('access_denied');
    expect(error.message).toContain('s3:GetObject');
    expect(error.message).toContain('s3:ListBucket');
    const tag = s3Error(serviceError('AccessDenied', 403), { ...context, action: 'tag' });
    expect(tag.message).toContain('s3:PutObjectTagging');
  });

  it('points at the credentials on a bad signature or key id', () => {
    for (const name of ['SignatureDoesNotMatch', 'InvalidAccessKeyId']) {
      const error = s3Error(serviceError(name, 403), context);
      expect(error.code).toBe('access_denied');
      expect(error.message).toContain('INLET_S3_ACCESS_KEY_ID');
    }
  });

  it('asks about INLET_S3_ENDPOINT when the endpoint cannot be reached', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' });
    const error = s3Error(refused, context);
    expect(error.code).toBe('endpoint_unreachable');
    expect(error.message).toContain('is INLET_S3_ENDPOINT right');
    const nested = new AggregateError([refused], 'connect failed');
    expect(s3Error(nested, context).code).toBe('endpoint_unreachable');
    const onAws = s3Error(Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }), {
      ...context,
      endpoint: undefined,
      region: 'eu-west-1',
    });
    expect(onAws.message).toContain('AWS_REGION');
  });

  it('keeps the SDK error as the cause and the object URI as the location', () => {
    const original = serviceError('InternalError', 500, 'We encountered an internal error');
    const error = s3Error(original, context);
    expect(error.code).toBe('storage_failed');
    expect(error.cause).toBe(original);
    expect(error.location).toEqual({ source: 's3://inbox/a.csv' });
    expect(error.message).toContain('We encountered an internal error');
  });
});

describe('S3ObjectStore against an endpoint nobody listens on', () => {
  it('fails fast with endpoint_unreachable and asks about INLET_S3_ENDPOINT', async () => {
    // Bind then close a port, so that it is free and refuses connections.
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const store = new S3ObjectStore({
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      forcePathStyle: true,
      maxAttempts: 1,
    });
    try {
      const error = await store.head('inbox', 'a.csv').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'endpoint_unreachable' });
      expect((error as Error).message).toContain(`http://127.0.0.1:${port}`);
      expect((error as Error).message).toContain('is INLET_S3_ENDPOINT right');
    } finally {
      store.close();
    }
  });
});
