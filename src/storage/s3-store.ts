/**
 * ObjectStore on Amazon S3 (AWS SDK v3), or on any S3-compatible endpoint such as the local gateway.
 * Bodies stream both ways: `get` hands back the HTTP response stream, and `put` of a stream goes
 * through lib-storage's Upload, which switches to a multipart upload past one part and holds at
 * most `partSize × queueSize` bytes in memory whatever the object's size.
 */
import { createHash } from 'node:crypto';
import { pipeline, Readable, Transform } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { SourceError } from '../errors.js';
import { ObjectNotFoundError, pageSize, StorageErrorCode, storageUri, validateTags } from './errors.js';
import type {
  GetOptions,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PutOptions,
} from './object-store.js';

export interface S3ObjectStoreOptions {
  /** An S3-compatible endpoint (`http://localhost:9000`); unset = AWS's regional endpoint. */
  readonly endpoint?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Unset = the SDK's default chain (environment, profile, Lambda or EC2 role). */
  readonly credentials?: S3ClientConfig['credentials'];
  /** `http://endpoint/bucket/key` instead of `http://bucket.endpoint/key`; most S3-compatible stores need it. */
  readonly forcePathStyle?: boolean;
  /**
   * Multipart part size for streamed puts. Memory per upload is about `partSize × queueSize`.
   * @default 8 MiB
   */
  readonly partSize?: number;
  /** Parts uploaded in parallel. @default 4 */
  readonly queueSize?: number;
  /** Attempts per request, retries included. @default 3 (the SDK's) */
  readonly maxAttempts?: number;
  /** A ready client (tests, custom middleware); the connection options above are then ignored. */
  readonly client?: S3Client;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_QUEUE_SIZE = 4;
const DEFAULT_REGION = 'us-east-1';

export class S3ObjectStore implements ObjectStore {
  readonly scheme = 's3' as const;
  readonly client: S3Client;
  private readonly endpoint: string | undefined;
  private readonly region: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  /** Buckets a HeadBucket has confirmed, so that a 404 on HEAD costs one extra request once per bucket. */
  private readonly knownBuckets = new Set<string>();

  constructor(options: S3ObjectStoreOptions = {}) {
    this.endpoint = options.endpoint;
    this.region = options.region ?? DEFAULT_REGION;
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    this.client =
      options.client ??
      new S3Client({
        region: this.region,
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
        ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
        ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      });
  }

  /** Closes the client's idle sockets; the store is unusable afterwards. */
  close(): void {
    this.client.destroy();
  }

  async get(
    bucket: string,
    key: string,
    options: GetOptions = {},
  ): Promise<{ readonly body: Readable; readonly info: ObjectInfo }> {
    const range = options.range;
    if (
      range &&
      (!validOffset(range.start) ||
        (range.end !== undefined && !(validOffset(range.end) && range.end >= range.start)))
    ) {
      throw new SourceError(
        StorageErrorCode.invalidRange,
        `invalid byte range ${range.start}-${range.end ?? ''} for ${storageUri('s3', bucket, key)}`,
      );
    }
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.start}-${range.end ?? ''}` } : {}),
          ...(options.versionId === undefined ? {} : { VersionId: options.versionId }),
        }),
      );
      // In Node the SDK's body is the HTTP response itself: reading it streams straight from the socket.
      const body = (out.Body as Readable | undefined) ?? Readable.from([]);
      // A ranged response's Content-Length is the range's; Content-Range carries the whole object's size.
      const total = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
      return {
        body,
        info: responseInfo(bucket, key, out, total === undefined ? (out.ContentLength ?? 0) : Number(total)),
      };
    } catch (error) {
      throw this.error(error, 'read', bucket, key);
    }
  }

  async head(
    bucket: string,
    key: string,
    options: { readonly versionId?: string } = {},
  ): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.client.send(
        new HeadObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(options.versionId === undefined ? {} : { VersionId: options.versionId }),
        }),
      );
      this.knownBuckets.add(bucket);
      return responseInfo(bucket, key, out, out.ContentLength ?? 0);
    } catch (error) {
      // HEAD responses have no body, so a missing bucket and a missing key are both a bare 404.
      if (httpStatus(error) === 404) {
        await this.requireBucket(bucket);
        return undefined;
      }
      throw this.error(error, 'read', bucket, key);
    }
  }

  async put(
    bucket: string,
    key: string,
    body: Readable | Buffer | string,
    options: PutOptions = {},
  ): Promise<ObjectInfo> {
    const attributes = {
      ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
      ...(options.metadata === undefined ? {} : { Metadata: { ...options.metadata } }),
    };
    try {
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        const bytes = Buffer.from(body);
        const out = await this.client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: bytes,
            ContentLength: bytes.length,
            // Lets S3 refuse a body damaged in transit, and documents that the etag is this MD5.
            ContentMD5: createHash('md5').update(bytes).digest('base64'),
            ...attributes,
          }),
        );
        return objectInfo(bucket, key, { size: bytes.length, etag: out.ETag, versionId: out.VersionId });
      }
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          callback(null, chunk);
        },
      });
      // pipeline() carries an error of the caller's stream into the upload, which then aborts its parts.
      const counted = pipeline(body, counter, () => undefined);
      const upload = new Upload({
        client: this.client,
        params: { Bucket: bucket, Key: key, Body: counted, ...attributes },
        partSize: this.partSize,
        queueSize: this.queueSize,
        leavePartsOnError: false,
      });
      const out = await upload.done();
      return objectInfo(bucket, key, { size, etag: out.ETag, versionId: out.VersionId });
    } catch (error) {
      throw this.error(error, 'store', bucket, key);
    }
  }

  async list(bucket: string, options: ListOptions = {}): Promise<ListPage> {
    try {
      const out = await this.client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          MaxKeys: pageSize(options.maxKeys),
          ...(options.prefix ? { Prefix: options.prefix } : {}),
          ...(options.delimiter ? { Delimiter: options.delimiter } : {}),
          ...(options.token === undefined ? {} : { ContinuationToken: options.token }),
        }),
      );
      const objects = (out.Contents ?? []).flatMap((object) =>
        object.Key === undefined
          ? []
          : [
              objectInfo(bucket, object.Key, {
                size: object.Size ?? 0,
                etag: object.ETag,
                lastModified: object.LastModified,
              }),
            ],
      );
      const prefixes = (out.CommonPrefixes ?? []).flatMap((p) => (p.Prefix === undefined ? [] : [p.Prefix]));
      return out.IsTruncated && out.NextContinuationToken
        ? { objects, prefixes, nextToken: out.NextContinuationToken }
        : { objects, prefixes };
    } catch (error) {
      throw this.error(error, 'list', bucket);
    }
  }

  async delete(bucket: string, key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      throw this.error(error, 'delete', bucket, key);
    }
  }

  /** Single-request copy: S3 limits it to objects of up to 5 GiB. */
  async copy(bucket: string, fromKey: string, toKey: string): Promise<ObjectInfo> {
    let versionId: string | undefined;
    try {
      const out = await this.client.send(
        new CopyObjectCommand({ Bucket: bucket, Key: toKey, CopySource: copySource(bucket, fromKey) }),
      );
      versionId = out.VersionId;
    } catch (error) {
      // The 404 is about the source: the destination is being created.
      throw this.error(error, 'copy', bucket, fromKey);
    }
    const info = await this.head(bucket, toKey, versionId === undefined ? {} : { versionId });
    if (info === undefined) {
      throw new SourceError(
        StorageErrorCode.failed,
        `copied ${storageUri('s3', bucket, fromKey)} to ${toKey}, but the copy is gone already (deleted concurrently?)`,
      );
    }
    return info;
  }

  async tag(bucket: string, key: string, tags: Readonly<Record<string, string>>): Promise<void> {
    validateTags(tags);
    try {
      await this.client.send(
        new PutObjectTaggingCommand({
          Bucket: bucket,
          Key: key,
          Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        }),
      );
    } catch (error) {
      throw this.error(error, 'tag', bucket, key);
    }
  }

  /** The object's tags (GetObjectTagging); `{}` when it has none. */
  async tags(bucket: string, key: string): Promise<Record<string, string>> {
    try {
      const out = await this.client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
      return Object.fromEntries((out.TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
    } catch (error) {
      throw this.error(error, 'read', bucket, key);
    }
  }

  private async requireBucket(bucket: string): Promise<void> {
    if (this.knownBuckets.has(bucket)) return;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch (error) {
      if (httpStatus(error) === 404)
        throw this.error(Object.assign(error as Error, { name: 'NoSuchBucket' }), 'read', bucket);
      throw this.error(error, 'read', bucket);
    }
    this.knownBuckets.add(bucket);
  }

  private error(error: unknown, action: S3Action, bucket: string, key?: string): SourceError {
    return s3Error(error, { action, bucket, key, endpoint: this.endpoint, region: this.region });
  }
}

export type S3Action = 'read' | 'store' | 'list' | 'delete' | 'copy' | 'tag';

const PERMISSION: Record<S3Action, string> = {
  read: 's3:GetObject',
  store: 's3:PutObject',
  list: 's3:ListBucket',
  delete: 's3:DeleteObject',
  copy: 's3:GetObject on the source and s3:PutObject on the destination',
  tag: 's3:PutObjectTagging',
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** Translates an SDK failure into a SourceError whose message says what to fix. Exported for tests. */
export function s3Error(
  error: unknown,
  context: {
    readonly action: S3Action;
    readonly bucket: string;
    readonly key?: string | undefined;
    readonly endpoint?: string | undefined;
    readonly region?: string | undefined;
  },
): SourceError {
  if (error instanceof SourceError) return error;
  const uri = storageUri('s3', context.bucket, context.key);
  const name = (error as Error | undefined)?.name ?? 'Error';
  const status = httpStatus(error);
  const options = { cause: error, location: { source: uri } };
  const where = context.endpoint === undefined ? '' : ` at ${context.endpoint}`;

  const network = networkCode(error);
  if (network !== undefined || name === 'TimeoutError') {
    const reason = network ?? 'timed out';
    return new SourceError(
      StorageErrorCode.unreachable,
      context.endpoint === undefined
        ? `cannot reach S3 in ${context.region ?? DEFAULT_REGION} (${reason}) to ${context.action} ${uri}: check the network and AWS_REGION`
        : `cannot reach the S3 endpoint ${context.endpoint} (${reason}) to ${context.action} ${uri}: is INLET_S3_ENDPOINT right, and is that server running?`,
      options,
    );
  }
  switch (name) {
    case 'NoSuchKey':
    case 'NotFound':
      return new ObjectNotFoundError(uri, { cause: error });
    case 'NoSuchBucket':
      return new SourceError(
        StorageErrorCode.bucketNotFound,
        `bucket "${context.bucket}" does not exist${where}: check the bucket name${context.endpoint === undefined ? ' and AWS_REGION' : ' and INLET_S3_ENDPOINT'}`,
        options,
      );
    case 'InvalidRange':
      return new SourceError(
        StorageErrorCode.invalidRange,
        `the requested byte range is outside ${uri}: ranges must start before the object's end`,
        options,
      );
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
      return new SourceError(
        StorageErrorCode.accessDenied,
        `S3${where} rejected the credentials (${name}) to ${context.action} ${uri}: check INLET_S3_ACCESS_KEY_ID and INLET_S3_SECRET_ACCESS_KEY (or the AWS credentials in use)`,
        options,
      );
    case 'ExpiredToken':
    case 'TokenRefreshRequired':
      return new SourceError(
        StorageErrorCode.accessDenied,
        `the AWS session credentials have expired (${name}): refresh them and retry`,
        options,
      );
    case 'CredentialsProviderError':
      return new SourceError(
        StorageErrorCode.accessDenied,
        `no AWS credentials found to ${context.action} ${uri}: set INLET_S3_ACCESS_KEY_ID and INLET_S3_SECRET_ACCESS_KEY, or run with an AWS profile or role`,
        options,
      );
    case 'PermanentRedirect':
    case 'AuthorizationHeaderMalformed':
      return new SourceError(
        StorageErrorCode.failed,
        `bucket "${context.bucket}" is in another region than ${context.region ?? DEFAULT_REGION}: set AWS_REGION to the bucket's region`,
        options,
      );
  }
  if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
    const missingKeyHint =
      context.action === 'read' && context.key !== undefined
        ? ' (S3 also answers 403 instead of 404 for a missing key when s3:ListBucket is not granted)'
        : '';
    return new SourceError(
      StorageErrorCode.accessDenied,
      `access denied to ${context.action} ${uri}: the credentials in use need ${PERMISSION[context.action]}${missingKeyHint}`,
      options,
    );
  }
  if (status === 301) {
    return new SourceError(
      StorageErrorCode.failed,
      `bucket "${context.bucket}" is in another region than ${context.region ?? DEFAULT_REGION}: set AWS_REGION to the bucket's region`,
      options,
    );
  }
  if (status === 404 && context.key !== undefined) return new ObjectNotFoundError(uri, { cause: error });
  const message = (error as Error | undefined)?.message || `HTTP ${status ?? '?'}`;
  return new SourceError(
    StorageErrorCode.failed,
    `cannot ${context.action} ${uri}${where}: ${name}: ${message}`,
    options,
  );
}

function networkCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const current = queue.shift();
    if (current === null || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    queue.push((current as { cause?: unknown }).cause);
    // Node's happy-eyeballs connect reports one AggregateError for the IPv4 and IPv6 attempts.
    if (current instanceof AggregateError) queue.push(...current.errors);
  }
  return undefined;
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function validOffset(value: number): boolean {
  return Number.isInteger(value) && value >= 0;
}

/** CopySource is a URL path: each key segment percent-encoded, `/` kept, so spaces, `+`, `%` survive. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** What a GetObject or HeadObject response says of the object (a ranged GET's size comes from Content-Range). */
function responseInfo(
  bucket: string,
  key: string,
  out: {
    ETag?: string | undefined;
    VersionId?: string | undefined;
    LastModified?: Date | undefined;
    ContentType?: string | undefined;
    Metadata?: Record<string, string> | undefined;
  },
  size: number,
): ObjectInfo {
  return objectInfo(bucket, key, {
    size,
    etag: out.ETag,
    versionId: out.VersionId,
    lastModified: out.LastModified,
    contentType: out.ContentType,
    metadata: out.Metadata ?? {},
  });
}

function objectInfo(
  bucket: string,
  key: string,
  fields: {
    size: number;
    etag?: string | undefined;
    versionId?: string | undefined;
    lastModified?: Date | undefined;
    contentType?: string | undefined;
    metadata?: Record<string, string> | undefined;
  },
): ObjectInfo {
  return {
    bucket,
    key,
    size: fields.size,
    // S3 quotes etags (`"abc"`); the interface carries them bare.
    ...(fields.etag === undefined ? {} : { etag: fields.etag.replace(/^"|"$/g, '') }),
    // "null" is how S3 names the one version of an object in an unversioned bucket: no version at all.
    ...(fields.versionId === undefined || fields.versionId === 'null' ? {} : { versionId: fields.versionId }),
    ...(fields.lastModified === undefined ? {} : { lastModified: fields.lastModified }),
    ...(fields.contentType === undefined ? {} : { contentType: fields.contentType }),
    ...(fields.metadata === undefined ? {} : { metadata: fields.metadata }),
  };
}
