import type { AuthResult } from './auth.js';
import { checksumName, readSmallBody, requestBody } from './body.js';
import type { BucketStore } from './bucket-store.js';
import { type ChecksumAlgorithm, isChecksumAlgorithm } from './checksums.js';
import { s3Errors } from './errors.js';
import { attributesFrom } from './objects.js';
import { header, originOf, queryValue, type S3Request, sendEmpty, sendXml } from './request.js';
import { parseCompleteMultipartUpload } from './xml.js';

function target(ctx: S3Request): { bucket: string; key: string } {
  if (ctx.bucket === undefined || ctx.key === undefined)
    throw s3Errors.invalidRequest('A bucket and key are required');
  return { bucket: ctx.bucket, key: ctx.key };
}

function uploadIdOf(ctx: S3Request): string {
  const id = queryValue(ctx.query, 'uploadId');
  if (id === undefined || id === '') throw s3Errors.invalidArgument('uploadId must be given');
  return id;
}

function checksumFields(checksums: Partial<Record<ChecksumAlgorithm, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(checksums).map(([a, v]) => [`Checksum${checksumName(a as ChecksumAlgorithm)}`, v]),
  );
}

export async function createMultipartUpload(ctx: S3Request, storage: BucketStore): Promise<void> {
  const { bucket, key } = target(ctx);
  ctx.req.resume();
  const requested = header(ctx.req, 'x-amz-checksum-algorithm')?.toLowerCase();
  const algorithm = requested !== undefined && isChecksumAlgorithm(requested) ? requested : undefined;
  const upload = await storage.createUpload(bucket, key, attributesFrom(ctx.req), algorithm);
  if (algorithm !== undefined) ctx.res.setHeader('x-amz-checksum-algorithm', checksumName(algorithm));
  sendXml(ctx, 200, 'InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: upload.uploadId });
}

export async function uploadPart(ctx: S3Request, auth: AuthResult, storage: BucketStore): Promise<void> {
  const { bucket, key } = target(ctx);
  const raw = queryValue(ctx.query, 'partNumber') ?? '';
  const partNumber = Number(raw);
  if (!/^\d+$/.test(raw) || partNumber < 1 || partNumber > 10000) {
    throw s3Errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive');
  }
  const upload = await storage.getUpload(bucket, uploadIdOf(ctx), key);
  const { stream, options } = requestBody(ctx, auth);
  const part = await storage.putPart(bucket, upload, partNumber, stream, options);
  const checksumHeaders = Object.fromEntries(
    Object.entries(part.checksums).map(([a, v]) => [`x-amz-checksum-${a}`, v]),
  );
  sendEmpty(ctx, 200, { etag: `"${part.etag}"`, ...checksumHeaders });
}

export async function completeMultipartUpload(
  ctx: S3Request,
  auth: AuthResult,
  storage: BucketStore,
): Promise<void> {
  const { bucket, key } = target(ctx);
  const upload = await storage.getUpload(bucket, uploadIdOf(ctx), key);
  const parts = parseCompleteMultipartUpload(
    // Here x-amz-checksum-* headers state the whole object's checksum, not the XML body's.
    await readSmallBody(ctx, auth, { headerChecksums: false }),
  );
  const meta = await storage.completeUpload(bucket, upload, parts, originOf(ctx));
  const host = header(ctx.req, 'host') ?? 'localhost';
  sendXml(ctx, 200, 'CompleteMultipartUploadResult', {
    Location: `http://${host}/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
    Bucket: bucket,
    Key: key,
    ETag: `"${meta.etag}"`,
  });
}

export async function abortMultipartUpload(ctx: S3Request, storage: BucketStore): Promise<void> {
  const { bucket } = target(ctx);
  await storage.abortUpload(bucket, uploadIdOf(ctx));
  sendEmpty(ctx, 204);
}

export async function listParts(ctx: S3Request, storage: BucketStore): Promise<void> {
  const { bucket, key } = target(ctx);
  const uploadId = uploadIdOf(ctx);
  const upload = await storage.getUpload(bucket, uploadId, key);
  const maxParts = Math.min(Number(queryValue(ctx.query, 'max-parts') ?? 1000) || 1000, 1000);
  const marker = Number(queryValue(ctx.query, 'part-number-marker') ?? 0) || 0;
  const all = (await storage.listParts(bucket, uploadId)).filter((p) => p.partNumber > marker);
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;
  sendXml(ctx, 200, 'ListPartsResult', {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.at(-1)?.partNumber ?? marker,
    MaxParts: maxParts,
    IsTruncated: truncated,
    ChecksumAlgorithm:
      upload.checksumAlgorithm === undefined ? undefined : checksumName(upload.checksumAlgorithm),
    Part: page.map((p) => ({
      PartNumber: p.partNumber,
      LastModified: p.lastModified,
      ETag: `"${p.etag}"`,
      Size: p.size,
      ...checksumFields(p.checksums),
    })),
    StorageClass: 'STANDARD',
  });
}

export async function listMultipartUploads(
  ctx: S3Request,
  storage: BucketStore,
  bucket: string,
): Promise<void> {
  const uploads = await storage.listUploads(bucket);
  sendXml(ctx, 200, 'ListMultipartUploadsResult', {
    Bucket: bucket,
    MaxUploads: 1000,
    IsTruncated: false,
    Upload: uploads.map((u) => ({
      Key: u.key,
      UploadId: u.uploadId,
      Initiated: u.initiated,
      StorageClass: 'STANDARD',
    })),
  });
}
