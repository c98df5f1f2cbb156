/**
 * Object URIs and engine sources for stored objects. Imports no adapter, so that choosing a store by
 * scheme does not pull the AWS SDK into a bundle that only reads files.
 */
import { basename, dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SourceError, UsageError } from '../errors.js';
import type { ObjectSource } from '../model/ingestion.js';
import type { ObjectInfo, ObjectStore } from './object-store.js';
import { encodeKeyPath } from './uri-encoding.js';

export interface ObjectUri {
  readonly scheme: 's3' | 'file';
  readonly bucket: string;
  readonly key: string;
}

/**
 * Splits an object URI:
 * - `s3://bucket/key/with/slashes` → bucket `bucket`, key `key/with/slashes`, taken verbatim, as the AWS CLI
 *   takes them: a typed S3 URI carries the raw key, so `%20` stays `%20` and `+` stays `+` (unlike keys in
 *   S3 event records, and unlike the encoded source URIs the ledger records).
 * - `file:///abs/dir/name.csv` → bucket `/abs/dir` (the directory, absolute), key `name.csv` (the file
 *   name), percent-decoded as file URLs are. A `FileObjectStore` rooted at `/` reads it back.
 */
export function parseObjectUri(uri: string): ObjectUri {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === 's3') {
    const rest = uri.slice('s3:'.length);
    if (!rest.startsWith('//')) throw invalidUri(uri, 'an S3 URI starts with s3:// followed by the bucket');
    const path = rest.slice(2);
    const slash = path.indexOf('/');
    const bucket = slash < 0 ? path : path.slice(0, slash);
    const key = slash < 0 ? '' : path.slice(slash + 1);
    if (bucket === '') throw invalidUri(uri, 'the bucket name is missing');
    if (!/^[A-Za-z0-9._-]+$/.test(bucket)) {
      throw invalidUri(uri, `"${bucket}" is not a bucket name (letters, digits, ".", "-" and "_" only)`);
    }
    if (key === '') throw invalidUri(uri, 'it names a bucket, not an object: add the key after the bucket');
    return { scheme: 's3', bucket, key };
  }
  if (scheme === 'file') {
    if (!uri.toLowerCase().startsWith('file://')) {
      throw invalidUri(uri, 'a file URI is absolute: file:///abs/path');
    }
    let path: string;
    try {
      path = fileURLToPath(uri);
    } catch (error) {
      throw invalidUri(uri, (error as Error).message);
    }
    if (path.endsWith('/')) throw invalidUri(uri, 'it names a directory, not a file');
    return { scheme: 'file', bucket: dirname(path), key: basename(path) };
  }
  throw invalidUri(
    uri,
    scheme === undefined
      ? 'it has no scheme'
      : `the scheme "${scheme}:" is not supported (only s3:// and file:// are)`,
  );
}

function invalidUri(uri: string, reason: string): UsageError {
  return new UsageError(
    'invalid_uri',
    `cannot use ${JSON.stringify(uri)} as an object URI: ${reason}. Use s3://bucket/key or file:///absolute/path`,
  );
}

/** What a front door knows about the object beyond its metadata: the event's sequencer and time. */
export type ObjectSourceInfo = Partial<ObjectInfo> & {
  /** The S3 event sequencer; orders versions of one key better than timestamps, which tie within a second. */
  readonly sequencer?: string;
  readonly receivedAt?: Date;
};

/**
 * An engine source for a stored object. With an etag in `info`, `open()` checks that it still reads
 * those bytes: the etag is part of the identity the ledger records, so loading a newer object under
 * it would break exactly-once. With a version id, `open()` reads that very version.
 */
export function objectSource(
  store: ObjectStore,
  bucket: string,
  key: string,
  info: ObjectSourceInfo = {},
): ObjectSource {
  const uri = uriOf(store, bucket, key);
  const order =
    info.sequencer ??
    // Fixed width, so that comparing the strings compares the times (as file-source.ts does).
    (info.lastModified === undefined ? undefined : String(info.lastModified.getTime()).padStart(20, '0'));
  return {
    uri,
    name: key,
    ...(info.versionId === undefined ? {} : { versionId: info.versionId }),
    ...(info.etag === undefined ? {} : { etag: info.etag }),
    ...(info.size === undefined ? {} : { size: info.size }),
    ...(order === undefined ? {} : { order }),
    ...(info.receivedAt === undefined ? {} : { receivedAt: info.receivedAt }),
    open(): Promise<Readable> {
      return read();
    },
    openRange(start: number, end: number): Promise<Readable> {
      // HTTP ranges are inclusive; callers never ask for an empty one.
      return read({ start, end: Math.max(start, end - 1) });
    },
  };

  async function read(range?: { start: number; end: number }): Promise<Readable> {
    const { body, info: current } = await store.get(bucket, key, {
      ...(info.versionId === undefined ? {} : { versionId: info.versionId }),
      ...(range === undefined ? {} : { range }),
    });
    if (info.versionId === undefined && info.etag !== undefined && current.etag !== info.etag) {
      body.destroy();
      throw new SourceError(
        'source_changed',
        `${uri} was overwritten since it was announced (etag ${info.etag}, now ${current.etag ?? 'unknown'}): the newer object arrives with its own event`,
        { location: { source: uri } },
      );
    }
    return body;
  }
}

/**
 * The ledger identity of a stored object: `s3://bucket/` and the key percent-encoded (encodeKeyPath), so
 * that any key, a NUL byte included, can be written to PostgreSQL. A file store names its objects by path
 * instead, so that the identity matches `inlet ingest <path>`.
 */
export function uriOf(store: ObjectStore, bucket: string, key: string): string {
  const withUri = store as ObjectStore & { objectUri?: (bucket: string, key: string) => string };
  return typeof withUri.objectUri === 'function'
    ? withUri.objectUri(bucket, key)
    : `${store.scheme}://${bucket}/${encodeKeyPath(key)}`;
}
