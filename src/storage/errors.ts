import type { ErrorCode } from '../error-codes/index.js';
import { SourceError } from '../errors.js';

/**
 * The object (or, for `bucket_not_found`, its bucket) does not exist. A subclass rather than a code
 * check so that callers can `instanceof` it, while `code` stays `source_not_found` like a missing
 * local file, so scripts see one code whatever the store.
 */
export class ObjectNotFoundError extends SourceError {
  constructor(uri: string, options: { cause?: unknown } = {}) {
    super('source_not_found', `${uri} does not exist: check the bucket and key (keys are case-sensitive)`, {
      ...options,
      location: { source: uri },
    });
  }
}

/** Codes carried by the SourceErrors of the object stores, shared so both adapters agree. */
export const StorageErrorCode = {
  notFound: 'source_not_found',
  bucketNotFound: 'bucket_not_found',
  accessDenied: 'access_denied',
  unreachable: 'endpoint_unreachable',
  invalidRange: 'invalid_range',
  invalidKey: 'invalid_key',
  keyConflict: 'key_conflict',
  failed: 'storage_failed',
} as const satisfies Record<string, ErrorCode>;

export function storageUri(scheme: 's3' | 'file', bucket: string, key?: string): string {
  return key === undefined ? `${scheme}://${bucket}` : `${scheme}://${bucket}/${key}`;
}

/** S3 limits, enforced by the file store too so that a config that works locally also works on AWS. */
export function validateTags(tags: Readonly<Record<string, string>>): void {
  const entries = Object.entries(tags);
  if (entries.length > 10) {
    throw new SourceError(
      StorageErrorCode.failed,
      `S3 allows at most 10 tags per object, got ${entries.length}`,
    );
  }
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > 128) {
      throw new SourceError(StorageErrorCode.failed, `tag key "${key}" must be 1 to 128 characters long`);
    }
    if (value.length > 256) {
      throw new SourceError(StorageErrorCode.failed, `tag "${key}" has a value longer than 256 characters`);
    }
  }
}

/** S3's ListObjectsV2 page size bounds; larger values are clamped as S3 does. */
export function pageSize(maxKeys: number | undefined): number {
  if (maxKeys === undefined) return 1000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new SourceError(
      StorageErrorCode.failed,
      `maxKeys must be an integer from 1 to 1000, got ${maxKeys}`,
    );
  }
  return Math.min(maxKeys, 1000);
}
