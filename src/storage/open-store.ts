/**
 * The one reader of store URIs, for the two things they name:
 * - an object, `s3://bucket/key` or `file:///abs/dir/name` (`inlet ingest` and `inlet infer` with an
 *   `s3://` argument, INLET_CONFIG in Lambda): parseObjectUri, and openStore for its store;
 * - a folder, `s3://bucket[/prefix]`, `file:///abs/dir` or a plain path (INLET_SNAPSHOT_TARGET):
 *   parseFolderUri.
 * The S3 store is handed in, not imported, so that a bundle that only reads files never loads the AWS SDK
 * and the door that holds the S3 settings is the one that configures it.
 */
import path, { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { FileObjectStore } from './file-store.js';
import type { ObjectStore } from './object-store.js';

/** The URI's scheme in lower case (`s3`, `file`, `https`…), or undefined when it has none. */
export function uriScheme(uri: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
}

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
  const scheme = uriScheme(uri);
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

export interface StoreOpeners {
  /** The S3 (or S3-compatible) store; asked for only when the URI is `s3://`. */
  readonly s3: () => ObjectStore;
}

export interface OpenedObject {
  readonly store: ObjectStore;
  readonly bucket: string;
  readonly key: string;
}

/**
 * The store holding the object a URI names, and the object's bucket and key in it: the S3 store for
 * `s3://`, a FileObjectStore rooted at `/` for `file://` (the directory is the bucket). Refuses what
 * parseObjectUri refuses, with the same UsageError.
 */
export function openStore(uri: string, openers: StoreOpeners): OpenedObject {
  const { scheme, bucket, key } = parseObjectUri(uri);
  return { store: scheme === 's3' ? openers.s3() : new FileObjectStore('/'), bucket, key };
}

/** A whole object as UTF-8 text: for a config, which is small and read whole, not a data file. */
export async function readObjectText({ store, bucket, key }: OpenedObject): Promise<string> {
  const { body } = await store.get(bucket, key);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export type FolderUri =
  | {
      readonly scheme: 's3';
      readonly bucket: string;
      /** Empty, or the key prefix ending in "/". */
      readonly prefix: string;
    }
  | { readonly scheme: 'file'; readonly dir: string };

/**
 * Splits a folder URI, surrounding blanks ignored:
 * - `s3://bucket` or `s3://bucket/prefix/` → the bucket and the prefix, slashes at its ends trimmed and one
 *   put back at its end; a "." or ".." segment is refused, since a store would not resolve it as a path does;
 * - `file:///abs/dir` → the directory; a plain path (a Windows drive path too) → resolved against the
 *   current directory.
 * Says why it cannot as a `problem` rather than throwing, so that the caller's error names the setting.
 */
export function parseFolderUri(uri: string): FolderUri | { readonly problem: string } {
  const trimmed = uri.trim();
  const scheme = uriScheme(trimmed);
  if (scheme === 's3') {
    const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/i.exec(trimmed);
    const bucket = match?.[1];
    if (bucket === undefined || !/^[A-Za-z0-9._-]+$/.test(bucket)) return { problem: 'it names no bucket' };
    const rest = (match?.[2] ?? '').replace(/^\/+|\/+$/g, '');
    if (rest.split('/').some((segment) => segment === '.' || segment === '..')) {
      return { problem: 'the prefix has a "." or ".." segment' };
    }
    return { scheme: 's3', bucket, prefix: rest === '' ? '' : `${rest}/` };
  }
  if (scheme === 'file') {
    try {
      return { scheme: 'file', dir: fileURLToPath(trimmed) };
    } catch (error) {
      return { problem: `${(error as Error).message} (a file URI is absolute: file:///abs/dir)` };
    }
  }
  if (scheme === undefined || /^[a-z]:[\\/]/i.test(trimmed))
    return { scheme: 'file', dir: path.resolve(trimmed) };
  return { problem: `the scheme "${scheme}:" is not supported` };
}
