import type { IncomingMessage } from 'node:http';
import type { AuthResult } from './auth.js';
import { checksumName, readSmallBody, requestBody } from './body.js';
import type { BucketStore, ObjectAttributes, ObjectMeta } from './bucket-store.js';
import type { ChecksumAlgorithm } from './checksums.js';
import { S3Error, s3Errors } from './errors.js';
import { header, originOf, parseQuery, queryValue, type S3Request, sendEmpty, sendXml } from './request.js';
import { parseTagging } from './xml.js';

/** Headers S3 stores with an object and returns on GET/HEAD. */
const STORED_HEADERS = ['content-disposition', 'content-language', 'cache-control', 'expires'];

export function attributesFrom(req: IncomingMessage): ObjectAttributes {
  const metadata: Record<string, string> = {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = text;
    else if (STORED_HEADERS.includes(name)) headers[name] = text;
  }
  // aws-chunked describes the transfer, not the object, so S3 drops it from the stored Content-Encoding.
  const encoding = (header(req, 'content-encoding') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && e !== 'aws-chunked')
    .join(',');
  if (encoding !== '') headers['content-encoding'] = encoding;
  return {
    contentType: header(req, 'content-type') ?? 'binary/octet-stream',
    metadata,
    headers,
    tags: parseTaggingHeader(header(req, 'x-amz-tagging')),
  };
}

function parseTaggingHeader(value: string | undefined): Record<string, string> {
  if (value === undefined || value === '') return {};
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(parseQuery(value.replace(/\+/g, '%20')))) {
    tags[k] = Array.isArray(v) ? (v[0] ?? '') : v;
  }
  return tags;
}

function quoted(etag: string): string {
  return `"${etag}"`;
}

function checksumHeaders(checksums: Partial<Record<ChecksumAlgorithm, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(checksums).map(([a, v]) => [`x-amz-checksum-${a}`, v]));
}

function requireKey(ctx: S3Request): { bucket: string; key: string } {
  if (ctx.bucket === undefined || ctx.key === undefined)
    throw s3Errors.invalidRequest('A bucket and key are required');
  return { bucket: ctx.bucket, key: ctx.key };
}

export async function putObject(ctx: S3Request, auth: AuthResult, storage: BucketStore): Promise<void> {
  const { bucket, key } = requireKey(ctx);
  if (!storage.hasBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  const { stream, options } = requestBody(ctx, auth);
  const meta = await storage.putObject(bucket, key, stream, attributesFrom(ctx.req), options, originOf(ctx));
  sendEmpty(ctx, 200, { etag: quoted(meta.etag), ...checksumHeaders(meta.checksums) });
}

function parseCopySource(value: string): { bucket: string; key: string } {
  const withoutVersion = value.replace(/\?versionId=.*$/, '');
  let path: string;
  try {
    path = decodeURIComponent(withoutVersion.startsWith('/') ? withoutVersion.slice(1) : withoutVersion);
  } catch {
    throw s3Errors.invalidArgument('Invalid copy source encoding');
  }
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1)
    throw s3Errors.invalidArgument(
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
    );
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}

export async function copyObject(ctx: S3Request, storage: BucketStore, copySource: string): Promise<void> {
  const { bucket, key } = requireKey(ctx);
  const source = parseCopySource(copySource);
  const replaceMeta = (header(ctx.req, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase() === 'REPLACE';
  const replaceTags = (header(ctx.req, 'x-amz-tagging-directive') ?? 'COPY').toUpperCase() === 'REPLACE';
  if (source.bucket === bucket && source.key === key && !replaceMeta) {
    throw s3Errors.invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const sourceMeta = storage.head(source.bucket, source.key);
  checkPreconditions(ctx.req, sourceMeta, 'x-amz-copy-source-');
  const given = attributesFrom(ctx.req);
  const meta = await storage.copyObject(
    source,
    bucket,
    key,
    (src) => ({
      contentType: replaceMeta ? given.contentType : src.contentType,
      metadata: replaceMeta ? given.metadata : src.metadata,
      headers: replaceMeta ? given.headers : src.headers,
      tags: replaceTags ? given.tags : src.tags,
    }),
    originOf(ctx),
  );
  sendXml(ctx, 200, 'CopyObjectResult', {
    LastModified: meta.lastModified,
    ETag: quoted(meta.etag),
    ...Object.fromEntries(
      Object.entries(meta.checksums).map(([a, v]) => [`Checksum${checksumName(a as ChecksumAlgorithm)}`, v]),
    ),
  });
}

/** If-Match / If-None-Match / If-(Un)Modified-Since, as S3 evaluates them for GET, HEAD and copy sources. */
function checkPreconditions(req: IncomingMessage, meta: ObjectMeta, prefix = ''): 'not-modified' | undefined {
  const ifMatch = header(req, `${prefix}if-match`);
  const ifNoneMatch = header(req, `${prefix}if-none-match`);
  const modifiedSince = header(req, `${prefix}if-modified-since`);
  const unmodifiedSince = header(req, `${prefix}if-unmodified-since`);
  const etags = (value: string) => value.split(',').map((v) => v.trim().replace(/^"|"$/g, ''));
  const lastModified = Math.floor(Date.parse(meta.lastModified) / 1000) * 1000;
  const failed = () =>
    new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  if (ifMatch !== undefined && !etags(ifMatch).some((e) => e === '*' || e === meta.etag)) throw failed();
  if (ifMatch === undefined && unmodifiedSince !== undefined && lastModified > Date.parse(unmodifiedSince))
    throw failed();
  if (ifNoneMatch !== undefined && etags(ifNoneMatch).some((e) => e === '*' || e === meta.etag)) {
    if (prefix !== '') throw failed();
    return 'not-modified';
  }
  if (ifNoneMatch === undefined && modifiedSince !== undefined && lastModified <= Date.parse(modifiedSince)) {
    if (prefix !== '') throw failed();
    return 'not-modified';
  }
  return undefined;
}

function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  const m = value === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (m === null) return undefined; // S3 ignores a Range it cannot parse (or several ranges) and sends everything
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) throw s3Errors.invalidRange(size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) throw s3Errors.invalidRange(size);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return undefined;
  return { start, end };
}

function objectHeaders(meta: ObjectMeta): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    'content-type': meta.contentType,
    etag: quoted(meta.etag),
    'last-modified': new Date(meta.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
    ...meta.headers,
  };
  for (const [name, value] of Object.entries(meta.metadata)) headers[`x-amz-meta-${name}`] = value;
  const tagCount = Object.keys(meta.tags).length;
  if (tagCount > 0) headers['x-amz-tagging-count'] = tagCount;
  const parts = /-(\d+)$/.exec(meta.etag);
  if (parts?.[1] !== undefined) headers['x-amz-mp-parts-count'] = parts[1];
  return headers;
}

function responseOverrides(ctx: S3Request): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const name of [
    'content-type',
    'content-language',
    'expires',
    'cache-control',
    'content-disposition',
    'content-encoding',
  ]) {
    const value = queryValue(ctx.query, `response-${name}`);
    if (value !== undefined) overrides[name] = value;
  }
  return overrides;
}

export async function getObject(ctx: S3Request, storage: BucketStore): Promise<void> {
  const { bucket, key } = requireKey(ctx);
  const head = storage.head(bucket, key);
  if (checkPreconditions(ctx.req, head) === 'not-modified') {
    sendEmpty(ctx, 304, { etag: quoted(head.etag) });
    return;
  }
  const range = parseRange(header(ctx.req, 'range'), head.size);
  const isHead = ctx.method === 'HEAD';
  const headers = { ...objectHeaders(head), ...responseOverrides(ctx) };
  // A checksum describes the whole object, so S3 only returns it for full reads the client asked to validate.
  if (range === undefined && header(ctx.req, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
    Object.assign(headers, checksumHeaders(head.checksums));
  }
  if (range !== undefined) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${head.size}`;
    headers['content-length'] = range.end - range.start + 1;
  } else {
    headers['content-length'] = head.size;
  }
  const status = range === undefined ? 200 : 206;
  if (isHead || head.size === 0) {
    ctx.res.writeHead(status, headers);
    ctx.res.end();
    return;
  }
  const { meta, body } = await storage.read(bucket, key, range);
  headers.etag = quoted(meta.etag);
  ctx.res.writeHead(status, headers);
  body.on('error', (err) => ctx.res.destroy(err));
  body.pipe(ctx.res);
  await new Promise<void>((resolve) => {
    ctx.res.on('close', () => {
      body.destroy();
      resolve();
    });
  });
}

export async function deleteObject(ctx: S3Request, storage: BucketStore): Promise<void> {
  const { bucket, key } = requireKey(ctx);
  if (!storage.hasBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  await storage.deleteObject(bucket, key);
  sendEmpty(ctx, 204);
}

export async function putTagging(ctx: S3Request, auth: AuthResult, storage: BucketStore): Promise<void> {
  const { bucket, key } = requireKey(ctx);
  storage.head(bucket, key);
  const tags = parseTagging(await readSmallBody(ctx, auth));
  await storage.putTags(bucket, key, tags);
  sendEmpty(ctx, 200);
}

export function getTagging(ctx: S3Request, storage: BucketStore): void {
  const { bucket, key } = requireKey(ctx);
  const meta = storage.head(bucket, key);
  sendXml(ctx, 200, 'Tagging', {
    TagSet: { Tag: Object.entries(meta.tags).map(([Key, Value]) => ({ Key, Value })) },
  });
}

export async function deleteTagging(ctx: S3Request, storage: BucketStore): Promise<void> {
  const { bucket, key } = requireKey(ctx);
  storage.head(bucket, key);
  await storage.putTags(bucket, key, {});
  sendEmpty(ctx, 204);
}
