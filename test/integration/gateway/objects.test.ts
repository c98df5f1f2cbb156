import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './harness.js';

let t: TestGateway;
const Bucket = 'inbox';

async function errorOf(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof S3ServiceException) return err;
    throw err;
  }
  throw new Error('expected the request to fail');
}

async function text(key: string, range?: string): Promise<string> {
  const res = await t.client.send(
    new GetObjectCommand({ Bucket, Key: key, ...(range ? { Range: range } : {}) }),
  );
  return (await res.Body?.transformToString()) ?? '';
}

beforeAll(async () => {
  t = await startTestGateway();
  await t.client.send(new CreateBucketCommand({ Bucket }));
});
afterAll(async () => {
  await t.stop();
});

describe('buckets', () => {
  it('lists, heads and refuses to re-create a bucket', async () => {
    const list = await t.client.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toEqual([Bucket]);
    await t.client.send(new HeadBucketCommand({ Bucket }));
    expect(
      (await errorOf(t.client.send(new HeadBucketCommand({ Bucket: 'missing-bucket' })))).$metadata
        .httpStatusCode,
    ).toBe(404);
    expect((await errorOf(t.client.send(new CreateBucketCommand({ Bucket })))).name).toBe(
      'BucketAlreadyOwnedByYou',
    );
    expect(
      (await errorOf(t.client.send(new GetObjectCommand({ Bucket: 'missing-bucket', Key: 'x' })))).name,
    ).toBe('NoSuchBucket');
  });
});

describe('objects', () => {
  it('puts a streamed body as aws-chunked with a CRC32 trailer and reads it back', async () => {
    let sent: Record<string, string> = {};
    const capture = t.clientWith({ accessKeyId: 'inlet-test', secretAccessKey: 'inlet-test-secret' });
    capture.middlewareStack.add(
      (next) => async (args) => {
        sent = { ...(args.request as { headers: Record<string, string> }).headers };
        return next(args);
      },
      { step: 'finalizeRequest', name: 'captureHeaders' },
    );
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(10_000, i));
    const body = Buffer.concat(chunks);
    const put = await capture.send(
      new PutObjectCommand({
        Bucket,
        Key: 'streamed.bin',
        Body: Readable.from(chunks),
        ContentLength: body.length,
        ContentType: 'application/x-test',
        Metadata: { origin: 'test' },
      }),
    );
    capture.destroy();
    expect(sent['content-encoding']).toContain('aws-chunked');
    expect(sent['x-amz-trailer']).toBe('x-amz-checksum-crc32');
    const md5 = createHash('md5').update(body).digest('hex');
    expect(put.ETag).toBe(`"${md5}"`);

    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: 'streamed.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    expect(got.ContentType).toBe('application/x-test');
    expect(got.ContentEncoding).toBeUndefined();
    expect(got.Metadata).toEqual({ origin: 'test' });
    expect(got.ChecksumCRC32).toBeDefined();

    const head = await t.client.send(new HeadObjectCommand({ Bucket, Key: 'streamed.bin' }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.ETag).toBe(`"${md5}"`);
  });

  it('serves ranges with 206 and Content-Range, and 416 past the end', async () => {
    await t.client.send(new PutObjectCommand({ Bucket, Key: 'range.txt', Body: '0123456789' }));
    expect(await text('range.txt', 'bytes=2-5')).toBe('2345');
    expect(await text('range.txt', 'bytes=7-')).toBe('789');
    expect(await text('range.txt', 'bytes=-3')).toBe('789');
    const res = await t.client.send(new GetObjectCommand({ Bucket, Key: 'range.txt', Range: 'bytes=0-0' }));
    expect(res.$metadata.httpStatusCode).toBe(206);
    expect(res.ContentRange).toBe('bytes 0-0/10');
    await res.Body?.transformToString();
    const err = await errorOf(
      t.client.send(new GetObjectCommand({ Bucket, Key: 'range.txt', Range: 'bytes=10-' })),
    );
    expect(err.name).toBe('InvalidRange');
    expect(err.$metadata.httpStatusCode).toBe(416);
  });

  it('answers NoSuchKey, and HEAD of a missing key with 404', async () => {
    const err = await errorOf(t.client.send(new GetObjectCommand({ Bucket, Key: 'nope' })));
    expect(err.name).toBe('NoSuchKey');
    expect(err.$metadata.httpStatusCode).toBe(404);
    const head = await errorOf(t.client.send(new HeadObjectCommand({ Bucket, Key: 'nope' })));
    expect(head.$metadata.httpStatusCode).toBe(404);
  });

  it('keeps keys with spaces, plus signs, unicode, dot segments and percent signs exactly', async () => {
    const keys = [
      'a b c.csv',
      'a+b.csv',
      'dir/ünïcødé 日本.csv',
      '../escape.csv',
      'x/../../y',
      '100%.csv',
      'q?x=1&y#z',
    ];
    for (const key of keys)
      await t.client.send(new PutObjectCommand({ Bucket, Key: key, Body: `body of ${key}` }));
    for (const key of keys) expect(await text(key)).toBe(`body of ${key}`);
    const listed = await t.client.send(new ListObjectsV2Command({ Bucket }));
    for (const key of keys) expect(listed.Contents?.map((c) => c.Key)).toContain(key);
    // Hashed file names: nothing was written outside the bucket's directory.
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(t.dataDir)).sort()).toEqual([Bucket]);
  });

  it('copies an object with its metadata, or replaces it', async () => {
    await t.client.send(
      new PutObjectCommand({
        Bucket,
        Key: 'src.txt',
        Body: 'copy me',
        ContentType: 'text/plain',
        Metadata: { a: '1' },
      }),
    );
    const copy = await t.client.send(
      new CopyObjectCommand({ Bucket, Key: 'dst.txt', CopySource: `${Bucket}/src.txt` }),
    );
    expect(copy.CopyObjectResult?.ETag).toBe(`"${createHash('md5').update('copy me').digest('hex')}"`);
    const head = await t.client.send(new HeadObjectCommand({ Bucket, Key: 'dst.txt' }));
    expect(head.ContentType).toBe('text/plain');
    expect(head.Metadata).toEqual({ a: '1' });
    await t.client.send(
      new CopyObjectCommand({
        Bucket,
        Key: 'processed/a b+c.txt',
        CopySource: `${Bucket}/${encodeURIComponent('src.txt')}`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/csv',
      }),
    );
    expect(await text('processed/a b+c.txt')).toBe('copy me');
    const replaced = await t.client.send(new HeadObjectCommand({ Bucket, Key: 'processed/a b+c.txt' }));
    expect(replaced.ContentType).toBe('text/csv');
    expect(replaced.Metadata).toEqual({});
    const err = await errorOf(
      t.client.send(new CopyObjectCommand({ Bucket, Key: 'x', CopySource: `${Bucket}/missing` })),
    );
    expect(err.name).toBe('NoSuchKey');
  });

  it('deletes one object and many objects', async () => {
    for (const key of ['d1', 'd2', 'd3'])
      await t.client.send(new PutObjectCommand({ Bucket, Key: key, Body: key }));
    await t.client.send(new DeleteObjectCommand({ Bucket, Key: 'd1' }));
    await t.client.send(new DeleteObjectCommand({ Bucket, Key: 'd1' })); // deleting a missing key succeeds
    const res = await t.client.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Objects: [{ Key: 'd2' }, { Key: 'd3' }, { Key: 'never' }] },
      }),
    );
    expect(res.Deleted?.map((d) => d.Key).sort()).toEqual(['d2', 'd3', 'never']);
    for (const key of ['d1', 'd2', 'd3']) {
      expect(
        (await errorOf(t.client.send(new HeadObjectCommand({ Bucket, Key: key })))).$metadata.httpStatusCode,
      ).toBe(404);
    }
  });

  it('stores, replaces and returns tags', async () => {
    await t.client.send(new PutObjectCommand({ Bucket, Key: 'tagged.csv', Body: 'x', Tagging: 'stage=new' }));
    let tags = await t.client.send(new GetObjectTaggingCommand({ Bucket, Key: 'tagged.csv' }));
    expect(tags.TagSet).toEqual([{ Key: 'stage', Value: 'new' }]);
    await t.client.send(
      new PutObjectTaggingCommand({
        Bucket,
        Key: 'tagged.csv',
        Tagging: {
          TagSet: [
            { Key: 'inlet-status', Value: 'processed' },
            { Key: 'rows', Value: '12' },
          ],
        },
      }),
    );
    tags = await t.client.send(new GetObjectTaggingCommand({ Bucket, Key: 'tagged.csv' }));
    expect(tags.TagSet).toEqual([
      { Key: 'inlet-status', Value: 'processed' },
      { Key: 'rows', Value: '12' },
    ]);
    expect(await text('tagged.csv')).toBe('x');
  });
});

describe('verification', () => {
  it('refuses a wrong secret with SignatureDoesNotMatch and an unknown key id with InvalidAccessKeyId', async () => {
    const wrong = t.clientWith({ accessKeyId: 'inlet-test', secretAccessKey: 'not-the-secret' });
    const err = await errorOf(wrong.send(new PutObjectCommand({ Bucket, Key: 'denied', Body: 'x' })));
    expect(err.name).toBe('SignatureDoesNotMatch');
    expect(err.$metadata.httpStatusCode).toBe(403);
    wrong.destroy();
    const unknown = t.clientWith({ accessKeyId: 'someone', secretAccessKey: 'inlet-test-secret' });
    expect((await errorOf(unknown.send(new ListBucketsCommand({})))).name).toBe('InvalidAccessKeyId');
    unknown.destroy();
    expect(
      (await errorOf(t.client.send(new HeadObjectCommand({ Bucket, Key: 'denied' })))).$metadata
        .httpStatusCode,
    ).toBe(404);
  });

  it('refuses a body whose Content-MD5 or CRC32 does not match with BadDigest, and stores nothing', async () => {
    const md5 = createHash('md5').update('something else').digest('base64');
    const err = await errorOf(
      t.client.send(new PutObjectCommand({ Bucket, Key: 'bad-md5', Body: 'payload', ContentMD5: md5 })),
    );
    expect(err.name).toBe('BadDigest');
    expect(err.$metadata.httpStatusCode).toBe(400);
    const crc = await errorOf(
      t.client.send(
        new PutObjectCommand({ Bucket, Key: 'bad-crc', Body: 'payload', ChecksumCRC32: 'AAAAAA==' }),
      ),
    );
    expect(crc.name).toBe('BadDigest');
    for (const key of ['bad-md5', 'bad-crc']) {
      expect(
        (await errorOf(t.client.send(new HeadObjectCommand({ Bucket, Key: key })))).$metadata.httpStatusCode,
      ).toBe(404);
    }
  });

  it('verifies a SHA-256 checksum and a CRC32C checksum', async () => {
    const body = 'checksummed';
    const sha256 = createHash('sha256').update(body).digest('base64');
    await t.client.send(new PutObjectCommand({ Bucket, Key: 'sha', Body: body, ChecksumSHA256: sha256 }));
    await t.client.send(
      new PutObjectCommand({ Bucket, Key: 'crc32c', Body: body, ChecksumAlgorithm: 'CRC32C' }),
    );
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: 'crc32c', ChecksumMode: 'ENABLED' }));
    expect(await got.Body?.transformToString()).toBe(body);
    expect(got.ChecksumCRC32C).toBeDefined();
  });
});

describe('ListObjectsV2', () => {
  const listBucket = 'listing';
  beforeAll(async () => {
    await t.client.send(new CreateBucketCommand({ Bucket: listBucket }));
    const keys = Array.from({ length: 2500 }, (_, i) => `data/${String(i).padStart(4, '0')}.csv`);
    keys.push('top.csv', 'logs/2024/a.log', 'logs/2024/b.log', 'logs/2025/c.log', 'logs/readme');
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys
          .slice(i, i + 50)
          .map((Key) => t.client.send(new PutObjectCommand({ Bucket: listBucket, Key, Body: Key }))),
      );
    }
  });

  it('pages 2,500 keys in pages of 1,000 with continuation tokens', async () => {
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const res = await t.client.send(
        new ListObjectsV2Command({
          Bucket: listBucket,
          Prefix: 'data/',
          MaxKeys: 1000,
          ContinuationToken: token,
        }),
      );
      pages.push((res.Contents ?? []).map((c) => c.Key!));
      expect(res.KeyCount).toBe(pages.at(-1)!.length);
      token = res.NextContinuationToken;
      expect(res.IsTruncated).toBe(token !== undefined);
    } while (token !== undefined);
    expect(pages.map((p) => p.length)).toEqual([1000, 1000, 500]);
    const all = pages.flat();
    expect(all[0]).toBe('data/0000.csv');
    expect(all.at(-1)).toBe('data/2499.csv');
    expect(new Set(all).size).toBe(2500);
  });

  it('groups by delimiter into common prefixes, also across pages', async () => {
    const root = await t.client.send(new ListObjectsV2Command({ Bucket: listBucket, Delimiter: '/' }));
    expect(root.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['data/', 'logs/']);
    expect(root.Contents?.map((c) => c.Key)).toEqual(['top.csv']);
    const logs = await t.client.send(
      new ListObjectsV2Command({ Bucket: listBucket, Delimiter: '/', Prefix: 'logs/' }),
    );
    expect(logs.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['logs/2024/', 'logs/2025/']);
    expect(logs.Contents?.map((c) => c.Key)).toEqual(['logs/readme']);

    const seen: string[] = [];
    let token: string | undefined;
    do {
      const res = await t.client.send(
        new ListObjectsV2Command({
          Bucket: listBucket,
          Delimiter: '/',
          Prefix: 'logs/',
          MaxKeys: 1,
          ContinuationToken: token,
        }),
      );
      seen.push(
        ...(res.CommonPrefixes ?? []).map((p) => p.Prefix!),
        ...(res.Contents ?? []).map((c) => c.Key!),
      );
      token = res.NextContinuationToken;
    } while (token !== undefined);
    expect(seen).toEqual(['logs/2024/', 'logs/2025/', 'logs/readme']);
  });

  it('starts after a key and returns keys in UTF-8 byte order', async () => {
    const res = await t.client.send(
      new ListObjectsV2Command({ Bucket: listBucket, Prefix: 'data/', StartAfter: 'data/2497.csv' }),
    );
    expect(res.Contents?.map((c) => c.Key)).toEqual(['data/2498.csv', 'data/2499.csv']);
    for (const key of ['o/\uFF21', 'o/\u{1F600}', 'o/Z']) {
      await t.client.send(new PutObjectCommand({ Bucket: listBucket, Key: key, Body: 'x' }));
    }
    const ordered = await t.client.send(new ListObjectsV2Command({ Bucket: listBucket, Prefix: 'o/' }));
    // UTF-8 puts U+FF21 before U+1F600, while UTF-16 code units would put the emoji first.
    expect(ordered.Contents?.map((c) => c.Key)).toEqual(['o/Z', 'o/\uFF21', 'o/\u{1F600}']);
  });
});
