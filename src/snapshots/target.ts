/**
 * Where archive snapshots go (INLET_SNAPSHOT_TARGET), as a repository location on the ObjectStore interface:
 * - `s3://bucket` or `s3://bucket/prefix`: the bucket must exist; the store is configured as every other
 *   `s3://` use (INLET_S3_ENDPOINT, INLET_S3_ACCESS_KEY_ID…, else the AWS default chain), or under
 *   `inlet dev` the local gateway;
 * - `file:///abs/dir` (or a plain path): a FileObjectStore rooted at that directory, with the repository in
 *   its `archive/` bucket, so everything it writes (its metadata sidecars too) stays inside the directory.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { FileObjectStore } from '../storage/file-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { RepositoryLocation } from './archive/repository.js';

export const FILE_TARGET_BUCKET = 'archive';

export interface TargetStores {
  /** The store for `s3://` targets; created only when the target is one. */
  readonly s3: () => ObjectStore & { close?(): void };
}

export interface OpenedTarget {
  readonly location: RepositoryLocation;
  close(): void;
}

/** The target's URI scheme, lower case (`s3`, `file`), or undefined for a plain path. */
export function targetScheme(target: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):/i.exec(target.trim())?.[1]?.toLowerCase();
}

export function openTarget(target: string, stores: TargetStores): OpenedTarget {
  const trimmed = target.trim();
  const scheme = targetScheme(trimmed);
  if (scheme === 's3') {
    const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/i.exec(trimmed);
    const bucket = m?.[1];
    if (bucket === undefined || !/^[A-Za-z0-9._-]+$/.test(bucket))
      throw invalid(target, 'it names no bucket');
    const rest = (m?.[2] ?? '').replace(/^\/+|\/+$/g, '');
    if (rest.split('/').some((segment) => segment === '.' || segment === '..')) {
      throw invalid(target, 'the prefix has a "." or ".." segment');
    }
    const prefix = rest === '' ? '' : `${rest}/`;
    const store = stores.s3();
    return {
      location: { store, bucket, prefix, uri: `s3://${bucket}/${prefix}` },
      close: () => store.close?.(),
    };
  }
  let dir: string;
  if (scheme === 'file') {
    try {
      dir = fileURLToPath(trimmed);
    } catch (error) {
      throw invalid(target, `${(error as Error).message} (a file URI is absolute: file:///abs/dir)`);
    }
  } else if (scheme === undefined || /^[a-z]:[\\/]/i.test(trimmed)) {
    dir = path.resolve(trimmed);
  } else {
    throw invalid(target, `the scheme "${scheme}:" is not supported`);
  }
  const store = new FileObjectStore(dir);
  return {
    location: {
      store,
      bucket: FILE_TARGET_BUCKET,
      prefix: '',
      uri: pathToFileURL(dir).href,
      ensureBucket: () => store.createBucket(FILE_TARGET_BUCKET),
    },
    close: () => undefined,
  };
}

/** The directory of a `file://` target (for the key-placement check), or undefined for `s3://`. */
export function targetDirectory(target: string): string | undefined {
  const trimmed = target.trim();
  if (/^s3:/i.test(trimmed)) return undefined;
  try {
    return trimmed.toLowerCase().startsWith('file:') ? fileURLToPath(trimmed) : path.resolve(trimmed);
  } catch {
    return undefined;
  }
}

function invalid(target: string, why: string): ConfigError {
  return new ConfigError(
    'invalid_snapshot_target',
    `INLET_SNAPSHOT_TARGET ${JSON.stringify(target)} is not usable: ${why}. Use s3://bucket[/prefix] or file:///absolute/dir.`,
  );
}
