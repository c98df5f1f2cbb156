import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from './errors.js';
import { type XmlNode, xmlDocument } from './xml.js';

export type Query = Record<string, string | string[]>;

/** A parsed S3 request: which bucket and key it addresses, and its query with values decoded. */
export interface S3Request {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** The path exactly as sent, which is what the client signed. */
  rawPath: string;
  query: Query;
  bucket: string | undefined;
  key: string | undefined;
  requestId: string;
}

export function originOf(ctx: S3Request): { requestId: string; sourceIp: string } {
  return { requestId: ctx.requestId, sourceIp: ctx.req.socket.remoteAddress ?? '127.0.0.1' };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.");
  }
}

/** Splits `a=1&b&c=%20` keeping `+` literal: SDKs percent-encode a space in query values, never send `+` for it. */
export function parseQuery(raw: string): Query {
  const query: Query = {};
  if (raw === '') return query;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1));
    const prior = query[name];
    query[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
  }
  return query;
}

export function queryValue(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[0] : value;
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Path-style `/bucket/key`, or virtual-host style `bucket.localhost/key`. The key is everything after the bucket's
 * slash, percent-decoded once, so `..`, `//` and `%2F` are plain key characters.
 */
export function parseTarget(req: IncomingMessage): {
  rawPath: string;
  query: Query;
  bucket?: string;
  key?: string;
} {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = parseQuery(q === -1 ? '' : url.slice(q + 1));
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI', "Couldn't parse the specified URI.");
  const host = (header(req, 'host') ?? '').replace(/:\d+$/, '').toLowerCase();
  const virtual = /^(.+)\.localhost$/.exec(host);
  if (virtual?.[1] !== undefined) {
    const key = decode(rawPath.slice(1));
    return { rawPath, query, bucket: virtual[1], ...(key === '' ? {} : { key }) };
  }
  const slash = rawPath.indexOf('/', 1);
  const bucket = decode(slash === -1 ? rawPath.slice(1) : rawPath.slice(1, slash));
  if (bucket === '') return { rawPath, query };
  const key = slash === -1 ? '' : decode(rawPath.slice(slash + 1));
  return { rawPath, query, bucket, ...(key === '' ? {} : { key }) };
}

export function sendXml(ctx: S3Request, status: number, root: string, body: XmlNode): void {
  const text = xmlDocument(root, body);
  ctx.res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(text),
  });
  ctx.res.end(ctx.method === 'HEAD' ? undefined : text);
}

export function sendEmpty(
  ctx: S3Request,
  status: number,
  headers: Record<string, string | number> = {},
): void {
  ctx.res.writeHead(status, { 'content-length': 0, ...headers });
  ctx.res.end();
}

export function sendError(ctx: S3Request, err: S3Error): void {
  const resource = ctx.rawPath;
  if (ctx.res.headersSent) {
    ctx.res.destroy(err);
    return;
  }
  const text = xmlDocument(
    'Error',
    { Code: err.s3Code, Message: err.message, ...err.extra, Resource: resource, RequestId: ctx.requestId },
    false,
  );
  ctx.res.writeHead(err.status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(text),
    'x-amz-request-id': ctx.requestId,
  });
  ctx.res.end(ctx.method === 'HEAD' ? undefined : text);
}
