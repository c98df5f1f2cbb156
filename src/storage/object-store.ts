import type { Readable } from 'node:stream';

/**
 * Object storage behind one interface, chosen by URI scheme: `s3://bucket/key` (AWS SDK v3; any
 * S3-compatible endpoint through INLET_S3_ENDPOINT) and `file://` (a directory per bucket under a
 * root). Every adapter passes the same behaviour suite (test/integration/storage).
 */
export interface ObjectInfo {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** As S3 reports it, without quotes: an MD5 hex, or `md5-N` for multipart uploads. */
  readonly etag?: string;
  readonly versionId?: string;
  readonly lastModified?: Date;
  readonly contentType?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface GetOptions {
  /** Byte range, both ends inclusive as in HTTP `Range: bytes=start-end`; `end` omitted = to the end. */
  readonly range?: { readonly start: number; readonly end?: number };
  readonly versionId?: string;
}

export interface PutOptions {
  readonly contentType?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface ListOptions {
  readonly prefix?: string;
  readonly delimiter?: string;
  /** Page size (1..1000); default 1000. */
  readonly maxKeys?: number;
  /** The `nextToken` of the previous page. */
  readonly token?: string;
}

export interface ListPage {
  /** Objects in key order (UTF-8 binary order, as S3 lists them). */
  readonly objects: readonly ObjectInfo[];
  /** With a delimiter: the common prefixes, in order. */
  readonly prefixes: readonly string[];
  /** Present when there is another page. */
  readonly nextToken?: string;
}

export interface ObjectStore {
  readonly scheme: 's3' | 'file';
  /** Streams the object; throws ObjectNotFoundError when it does not exist. */
  get(
    bucket: string,
    key: string,
    options?: GetOptions,
  ): Promise<{ readonly body: Readable; readonly info: ObjectInfo }>;
  /** The object's metadata, or undefined when it does not exist. */
  head(
    bucket: string,
    key: string,
    options?: { readonly versionId?: string },
  ): Promise<ObjectInfo | undefined>;
  /** Stores the whole body (streamed, never buffered whole); the object is visible only once complete. */
  put(
    bucket: string,
    key: string,
    body: Readable | Buffer | string,
    options?: PutOptions,
  ): Promise<ObjectInfo>;
  list(bucket: string, options?: ListOptions): Promise<ListPage>;
  /** Deleting a missing object is not an error (as in S3). */
  delete(bucket: string, key: string): Promise<void>;
  /** Server-side copy within a bucket (used to move processed objects under `processed/`). */
  copy(bucket: string, fromKey: string, toKey: string): Promise<ObjectInfo>;
  /** Replaces the object's tags (used to mark processed objects). */
  tag(bucket: string, key: string, tags: Readonly<Record<string, string>>): Promise<void>;
}
