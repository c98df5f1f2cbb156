import type { AuthResult } from './auth.js';
import { readSmallBody } from './body.js';
import type { BucketStore } from './bucket-store.js';
import { S3Error, s3Errors } from './errors.js';
import { queryValue, type S3Request, sendEmpty, sendXml } from './request.js';
import { parseDeleteObjects, type XmlNode } from './xml.js';

const OWNER = { ID: 'inlet', DisplayName: 'inlet' };

export function listBuckets(ctx: S3Request, storage: BucketStore): void {
  sendXml(ctx, 200, 'ListAllMyBucketsResult', {
    Owner: OWNER,
    Buckets: { Bucket: storage.listBuckets().map((b) => ({ Name: b.name, CreationDate: b.created })) },
  });
}

export async function createBucket(ctx: S3Request, storage: BucketStore, bucket: string): Promise<void> {
  // The optional CreateBucketConfiguration body only names a region; there is one region here.
  ctx.req.resume();
  await storage.createBucket(bucket);
  sendEmpty(ctx, 200, { location: `/${bucket}` });
}

export function headBucket(ctx: S3Request, storage: BucketStore, bucket: string, region: string): void {
  if (!storage.hasBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  sendEmpty(ctx, 200, { 'x-amz-bucket-region': region });
}

export function getBucketLocation(
  ctx: S3Request,
  storage: BucketStore,
  bucket: string,
  region: string,
): void {
  if (!storage.hasBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  // us-east-1 is reported as an empty LocationConstraint, as S3 does.
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region === 'us-east-1' ? '' : region}</LocationConstraint>`;
  ctx.res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) });
  ctx.res.end(text);
}

export async function deleteBucket(ctx: S3Request, storage: BucketStore, bucket: string): Promise<void> {
  await storage.deleteBucket(bucket);
  sendEmpty(ctx, 204);
}

function encodeForList(value: string, urlEncoded: boolean): string {
  return urlEncoded ? encodeURIComponent(value).replace(/%2F/g, '/') : value;
}

function intParam(ctx: S3Request, name: string, fallback: number, max: number): number {
  const raw = queryValue(ctx.query, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw))
    throw s3Errors.invalidArgument(`Provided ${name} not an integer or within integer range`);
  return Math.min(Number(raw), max);
}

/** Continuation tokens are opaque to clients; ours record whether the last entry was a key or a common prefix. */
function encodeToken(kind: 'K' | 'P', value: string): string {
  return Buffer.from(`${kind}${value}`, 'utf8').toString('base64url');
}

function decodeToken(token: string): { kind: 'K' | 'P'; value: string } {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const kind = text[0];
  if (kind !== 'K' && kind !== 'P')
    throw s3Errors.invalidArgument('The continuation token provided is incorrect');
  return { kind, value: text.slice(1) };
}

interface Listing {
  contents: string[];
  prefixes: string[];
  truncated: boolean;
  last: { kind: 'K' | 'P'; value: string } | undefined;
}

function list(
  storage: BucketStore,
  bucket: string,
  prefix: string,
  delimiter: string,
  maxKeys: number,
  after: { kind: 'K' | 'P'; value: string } | undefined,
): Listing {
  const result: Listing = { contents: [], prefixes: [], truncated: false, last: undefined };
  let lastPrefix = after?.kind === 'P' ? after.value : undefined;
  for (const key of storage.keysAfter(bucket, after?.value, prefix)) {
    // Keys under a common prefix already returned are folded into it, also across pages.
    if (lastPrefix !== undefined && key.startsWith(lastPrefix)) continue;
    const at = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
    const entry =
      at === -1
        ? { kind: 'K' as const, value: key }
        : { kind: 'P' as const, value: key.slice(0, at + delimiter.length) };
    if (result.contents.length + result.prefixes.length >= maxKeys) {
      result.truncated = true;
      break;
    }
    if (entry.kind === 'K') result.contents.push(key);
    else {
      result.prefixes.push(entry.value);
      lastPrefix = entry.value;
    }
    result.last = entry;
  }
  return result;
}

export function listObjects(ctx: S3Request, storage: BucketStore, bucket: string): void {
  if (!storage.hasBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  const v2 = queryValue(ctx.query, 'list-type') === '2';
  const prefix = queryValue(ctx.query, 'prefix') ?? '';
  const delimiter = queryValue(ctx.query, 'delimiter') ?? '';
  const maxKeys = intParam(ctx, 'max-keys', 1000, 1000);
  const encodingType = queryValue(ctx.query, 'encoding-type');
  if (encodingType !== undefined && encodingType !== 'url')
    throw s3Errors.invalidArgument('Invalid Encoding Method specified in Request');
  const url = encodingType === 'url';
  const enc = (v: string) => encodeForList(v, url);

  let after: { kind: 'K' | 'P'; value: string } | undefined;
  const token = queryValue(ctx.query, 'continuation-token');
  const startAfter = queryValue(ctx.query, v2 ? 'start-after' : 'marker');
  if (v2 && token !== undefined) after = decodeToken(token);
  else if (startAfter !== undefined && startAfter !== '') after = { kind: 'K', value: startAfter };

  const listing = list(storage, bucket, prefix, delimiter, maxKeys, after);
  const fetchOwner = !v2 || queryValue(ctx.query, 'fetch-owner') === 'true';
  const contents = listing.contents.map((key) => {
    const meta = storage.head(bucket, key);
    const checksums = Object.keys(meta.checksums);
    return {
      Key: enc(key),
      LastModified: meta.lastModified,
      ETag: `"${meta.etag}"`,
      ...(checksums.length > 0 ? { ChecksumAlgorithm: checksums.map((c) => c.toUpperCase()) } : {}),
      Size: meta.size,
      ...(fetchOwner ? { Owner: OWNER } : {}),
      StorageClass: 'STANDARD',
    };
  });
  const body: XmlNode = {
    IsTruncated: listing.truncated,
    ...(v2 ? {} : { Marker: enc(startAfter ?? '') }),
    ...(!v2 && listing.truncated && delimiter !== '' && listing.last !== undefined
      ? { NextMarker: enc(listing.last.value) }
      : {}),
    Contents: contents,
    Name: bucket,
    Prefix: enc(prefix),
    Delimiter: delimiter === '' ? undefined : enc(delimiter),
    MaxKeys: maxKeys,
    CommonPrefixes: listing.prefixes.map((p) => ({ Prefix: enc(p) })),
    EncodingType: encodingType,
  };
  if (v2) {
    Object.assign(body, {
      KeyCount: listing.contents.length + listing.prefixes.length,
      ContinuationToken: token,
      NextContinuationToken:
        listing.truncated && listing.last !== undefined
          ? encodeToken(listing.last.kind, listing.last.value)
          : undefined,
      StartAfter: startAfter === undefined ? undefined : enc(startAfter),
    });
  }
  sendXml(ctx, 200, 'ListBucketResult', body);
}

export async function deleteObjects(
  ctx: S3Request,
  auth: AuthResult,
  storage: BucketStore,
  bucket: string,
): Promise<void> {
  if (!storage.hasBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  const request = parseDeleteObjects(await readSmallBody(ctx, auth));
  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  for (const key of request.keys) {
    try {
      await storage.deleteObject(bucket, key);
      if (!request.quiet) deleted.push({ Key: key });
    } catch (err) {
      const s3 =
        err instanceof S3Error ? err : new S3Error('InternalError', 'We encountered an internal error.');
      errors.push({ Key: key, Code: s3.s3Code, Message: s3.message });
    }
  }
  sendXml(ctx, 200, 'DeleteResult', { Deleted: deleted, Error: errors });
}
