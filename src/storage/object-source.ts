/**
 * Engine sources for stored objects, and the URI the ledger knows each by. Imports no adapter, so that a
 * bundle that only reads files does not pull in the AWS SDK.
 */
import { Readable } from 'node:stream';
import { SourceError } from '../errors.js';
import type { ObjectSource } from '../model/ingestion.js';
import { ObjectNotFoundError } from './errors.js';
import type { ObjectInfo, ObjectStore } from './object-store.js';
import { encodeKeyPath } from './uri-encoding.js';

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
      // HTTP ranges are inclusive and cannot say "no bytes": an empty range asks the store nothing.
      if (end <= start) return Promise.resolve(Readable.from([], { objectMode: false }));
      return read({ start, end: end - 1 });
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

/** Which object a runner was handed: the version and/or ETag its ingestion id was derived from. */
export interface ObjectPin {
  readonly versionId?: string;
  readonly etag?: string;
}

/**
 * The source for exactly the object a front door handed over: that version when it has one, and refused
 * (source_changed) when the key now holds other bytes than the ETag named, before anything is read and
 * again on every read (objectSource), so a newer object is never loaded under the older one's ingestion id.
 */
export async function pinnedObjectSource(
  store: ObjectStore,
  bucket: string,
  key: string,
  pin: ObjectPin,
): Promise<ObjectSource> {
  const uri = uriOf(store, bucket, key);
  const info = await store.head(bucket, key, pin.versionId === undefined ? {} : { versionId: pin.versionId });
  if (info === undefined) {
    if (pin.versionId === undefined) throw new ObjectNotFoundError(uri);
    throw new SourceError(
      'source_not_found',
      `${uri} has no version ${pin.versionId} (deleted, or expired by a lifecycle rule): this hand-over cannot load it; a newer object arrives with its own event`,
      { location: { source: uri } },
    );
  }
  if (pin.etag !== undefined && info.etag !== pin.etag) {
    throw new SourceError(
      'source_changed',
      `${uri}${pin.versionId === undefined ? '' : ` version ${pin.versionId}`} was overwritten since it was handed over (etag ${pin.etag}, now ${info.etag ?? 'unknown'}): nothing was loaded; the newer object arrives with its own event`,
      { location: { source: uri } },
    );
  }
  return objectSource(store, bucket, key, info);
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
