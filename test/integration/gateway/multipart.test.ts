import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  type S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './harness.js';

let t: TestGateway;
const Bucket = 'uploads';
const MiB = 1024 * 1024;

beforeAll(async () => {
  t = await startTestGateway();
  await t.client.send(new CreateBucketCommand({ Bucket }));
});
afterAll(async () => {
  await t.stop();
});

function pattern(size: number): Buffer {
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) buf.writeUInt32LE(i, i);
  return buf;
}

describe('multipart upload', () => {
  it('assembles a 12 MiB lib-storage upload in 5 MiB parts, with the MD5-of-MD5s ETag', async () => {
    const body = pattern(12 * MiB);
    const partSize = 5 * MiB;
    const upload = new Upload({
      client: t.client,
      params: { Bucket, Key: 'big file.bin', Body: body },
      partSize,
      queueSize: 3,
    });
    const result = await upload.done();
    const partMd5s = [0, 1, 2].map((i) =>
      createHash('md5')
        .update(body.subarray(i * partSize, (i + 1) * partSize))
        .digest(),
    );
    const expected = `${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-3`;
    expect(result.ETag).toBe(`"${expected}"`);

    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: 'big file.bin' }));
    expect(got.ETag).toBe(`"${expected}"`);
    expect(got.ContentLength).toBe(body.length);
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  });

  it('lists parts, refuses a wrong part ETag with InvalidPart, and aborts', async () => {
    const { UploadId } = await t.client.send(
      new CreateMultipartUploadCommand({ Bucket, Key: 'aborted.bin' }),
    );
    const part = await t.client.send(
      new UploadPartCommand({
        Bucket,
        Key: 'aborted.bin',
        UploadId,
        PartNumber: 1,
        Body: Buffer.from('tiny part'),
      }),
    );
    const parts = await t.client.send(new ListPartsCommand({ Bucket, Key: 'aborted.bin', UploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size])).toEqual([[1, part.ETag, 9]]);

    const wrong = await t.client
      .send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'aborted.bin',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] },
        }),
      )
      .catch((err: S3ServiceException) => err);
    expect((wrong as S3ServiceException).name).toBe('InvalidPart');

    await t.client.send(new AbortMultipartUploadCommand({ Bucket, Key: 'aborted.bin', UploadId }));
    const gone = await t.client
      .send(new ListPartsCommand({ Bucket, Key: 'aborted.bin', UploadId }))
      .catch((err: S3ServiceException) => err);
    expect((gone as S3ServiceException).name).toBe('NoSuchUpload');
    expect((gone as S3ServiceException).$metadata.httpStatusCode).toBe(404);
    const missing = await t.client
      .send(new GetObjectCommand({ Bucket, Key: 'aborted.bin' }))
      .catch((err: S3ServiceException) => err);
    expect((missing as S3ServiceException).name).toBe('NoSuchKey');
  });

  it('completes a single small part (the last part may be small)', async () => {
    const { UploadId } = await t.client.send(new CreateMultipartUploadCommand({ Bucket, Key: 'one.bin' }));
    const part = await t.client.send(
      new UploadPartCommand({
        Bucket,
        Key: 'one.bin',
        UploadId,
        PartNumber: 1,
        Body: Buffer.from('only part'),
      }),
    );
    const done = await t.client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'one.bin',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(done.ETag).toMatch(/-1"$/);
    const got = await t.client.send(new GetObjectCommand({ Bucket, Key: 'one.bin' }));
    expect(await got.Body?.transformToString()).toBe('only part');
  });
});
