/**
 * Where archive snapshots go (INLET_SNAPSHOT_TARGET, read by parseFolderUri), as a repository location on the
 * ObjectStore interface:
 * - `s3://bucket` or `s3://bucket/prefix`: the bucket must exist; the store is configured as every other
 *   `s3://` use (INLET_S3_ENDPOINT, INLET_S3_ACCESS_KEY_ID…, else the AWS default chain), or under
 *   `inlet dev` the local gateway;
 * - `file:///abs/dir` (or a plain path): a FileObjectStore rooted at that directory, with the repository in
 *   its `archive/` bucket, so everything it writes (its metadata sidecars too) stays inside the directory.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { FileObjectStore } from '../storage/file-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { parseFolderUri, uriScheme } from '../storage/open-store.js';
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
  return uriScheme(target.trim());
}

export function openTarget(target: string, stores: TargetStores): OpenedTarget {
  const folder = parseFolderUri(target);
  if ('problem' in folder) throw invalid(target, folder.problem);
  if (folder.scheme === 's3') {
    const { bucket, prefix } = folder;
    const store = stores.s3();
    return {
      location: { store, bucket, prefix, uri: `s3://${bucket}/${prefix}` },
      close: () => store.close?.(),
    };
  }
  const store = new FileObjectStore(folder.dir);
  return {
    location: {
      store,
      bucket: FILE_TARGET_BUCKET,
      prefix: '',
      uri: pathToFileURL(folder.dir).href,
      ensureBucket: () => store.createBucket(FILE_TARGET_BUCKET),
    },
    close: () => undefined,
  };
}

/** The directory of a `file://` target (for the key-placement check), or undefined for `s3://` or a target it cannot use. */
export function targetDirectory(target: string): string | undefined {
  const folder = parseFolderUri(target);
  return 'problem' in folder || folder.scheme !== 'file' ? undefined : folder.dir;
}

function invalid(target: string, why: string): ConfigError {
  return new ConfigError(
    'invalid_snapshot_target',
    `INLET_SNAPSHOT_TARGET ${JSON.stringify(target)} is not usable: ${why}. Use s3://bucket[/prefix] or file:///absolute/dir.`,
  );
}
