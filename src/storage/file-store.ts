/**
 * ObjectStore over a directory: `<root>/<bucket>/<key>` is a plain file, so a bucket can be filled or
 * inspected with ordinary tools. What S3 keeps beside the bytes (etag, content type, user metadata,
 * tags) lives in a sidecar under `<root>/.inlet-meta/`, which makes `head` and `list` cheap.
 *
 * Layout and guarantees:
 * - Keys map `/` to subdirectories. A key is refused (`invalid_key`) when it could leave its bucket
 *   (`..` or `.` segments, a leading `/`, NUL) or cannot be a file (empty segment, trailing `/`).
 *   Symbolic links planted inside a bucket are followed; the store never creates them.
 * - A file system cannot hold both `a` and `a/b`, unlike S3: such a put fails with `key_conflict`.
 * - `put` streams into `<root>/.inlet-tmp/`, fsyncs, and renames into place: a reader sees the old
 *   object or the new one, never part of one, and a crash leaves only a temp file behind.
 * - The sidecar records the inode, size and mtime of the file it describes. When they do not match
 *   (a file copied in by hand, edited in place, or a crash between the two renames of a put), the
 *   etag is recomputed from the bytes instead of trusting stale metadata.
 * - Buckets must exist (as directories) before use, as in S3, so a typo in a bucket name fails
 *   loudly instead of creating a new directory; `createBucket` makes one.
 * - No versioning: a `versionId` is refused.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Dirent, Stats } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { SourceError } from '../errors.js';
import { fsyncPath, writeAll, writeSynced } from './durable.js';
import { ObjectNotFoundError, pageSize, StorageErrorCode, validateTags } from './errors.js';
import type {
  GetOptions,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PutOptions,
} from './object-store.js';

const META_DIR = '.inlet-meta';
const TMP_DIR = '.inlet-tmp';
/** Same chunk size as file-source.ts: fewer, larger chunks keep the parsers busy. */
const READ_CHUNK_BYTES = 1 << 20;
/** Sidecar reads per list page in flight at once: enough to hide latency, few enough to stay under EMFILE. */
const LIST_CONCURRENCY = 32;

interface Sidecar {
  readonly v: 1;
  readonly etag: string;
  readonly size: number;
  readonly ino: number;
  readonly mtimeMs: number;
  readonly contentType?: string;
  readonly metadata?: Record<string, string>;
  readonly tags?: Record<string, string>;
}

interface Attributes {
  readonly contentType?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

export class FileObjectStore implements ObjectStore {
  readonly scheme = 'file' as const;
  readonly root: string;
  /** Serialises commits per object within this process; across processes the inode check keeps reads honest. */
  private readonly locks = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  async createBucket(bucket: string): Promise<void> {
    await mkdir(this.bucketDir(bucket), { recursive: true });
  }

  /** The absolute path of the file holding the object. */
  pathOf(bucket: string, key: string): string {
    return join(this.bucketDir(bucket), ...keySegments(key));
  }

  /** The object's `file:///abs/path` URI, the same identity `inlet ingest <path>` gives the file. */
  objectUri(bucket: string, key: string): string {
    return pathToFileURL(this.pathOf(bucket, key)).href;
  }

  async get(
    bucket: string,
    key: string,
    options: GetOptions = {},
  ): Promise<{ readonly body: Readable; readonly info: ObjectInfo }> {
    refuseVersion(options.versionId);
    const path = this.pathOf(bucket, key);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw await this.fsError(error, bucket, key, 'read');
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new ObjectNotFoundError(this.objectUri(bucket, key));
      const info = await this.describe(bucket, key, stats, handle);
      let start = 0;
      let end = stats.size - 1;
      if (options.range) {
        start = options.range.start;
        end = Math.min(options.range.end ?? end, end);
        if (!Number.isInteger(start) || start < 0 || start >= stats.size || end < start) {
          throw new SourceError(
            StorageErrorCode.invalidRange,
            `cannot read bytes ${start}-${options.range.end ?? ''} of ${this.objectUri(bucket, key)}: it is ${stats.size} bytes long`,
            { location: { source: this.objectUri(bucket, key) } },
          );
        }
      }
      // Reading from the handle opened above pins the inode: a concurrent put replaces the name, not these bytes.
      const body = handle.createReadStream({
        start,
        // An empty file has no last byte; an explicit end would be -1, which Node refuses.
        ...(stats.size === 0 ? {} : { end }),
        highWaterMark: READ_CHUNK_BYTES,
      });
      return { body, info };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async head(
    bucket: string,
    key: string,
    options: { readonly versionId?: string } = {},
  ): Promise<ObjectInfo | undefined> {
    refuseVersion(options.versionId);
    const path = this.pathOf(bucket, key);
    let stats: Stats;
    try {
      stats = await stat(path);
    } catch (error) {
      const failure = await this.fsError(error, bucket, key, 'read');
      if (failure instanceof ObjectNotFoundError) return undefined;
      throw failure;
    }
    if (!stats.isFile()) return undefined;
    return this.describe(bucket, key, stats);
  }

  async put(
    bucket: string,
    key: string,
    body: Readable | Buffer | string,
    options: PutOptions = {},
  ): Promise<ObjectInfo> {
    try {
      this.pathOf(bucket, key);
      await this.requireBucket(bucket);
    } catch (error) {
      // Nobody else will consume the stream now; leaving it open would hold its source open.
      if (typeof body !== 'string' && !Buffer.isBuffer(body)) body.destroy();
      throw error;
    }
    const chunks = typeof body === 'string' || Buffer.isBuffer(body) ? [Buffer.from(body)] : body;
    return this.write(bucket, key, chunks, {
      contentType: options.contentType,
      metadata: options.metadata === undefined ? undefined : lowerKeys(options.metadata),
    });
  }

  async list(bucket: string, options: ListOptions = {}): Promise<ListPage> {
    const dir = this.bucketDir(bucket);
    await this.requireBucket(bucket);
    const prefix = options.prefix ?? '';
    const delimiter = options.delimiter === '' ? undefined : options.delimiter;
    const max = pageSize(options.maxKeys);
    const after = options.token === undefined ? undefined : decodeToken(options.token);

    const keys: string[] = [];
    const prefixes: string[] = [];
    let last: Token | undefined;
    let more = false;
    for await (const key of walk(dir, '', prefix, after?.k)) {
      if (after && (compareUtf8(key, after.k) <= 0 || (after.p && key.startsWith(after.k)))) continue;
      let common: string | undefined;
      if (delimiter !== undefined) {
        const at = key.indexOf(delimiter, prefix.length);
        if (at >= 0) common = key.slice(0, at + delimiter.length);
      }
      if (common !== undefined && last?.p && last.k === common) continue;
      if (keys.length + prefixes.length === max) {
        more = true;
        break;
      }
      if (common === undefined) {
        keys.push(key);
        last = { k: key };
      } else {
        prefixes.push(common);
        last = { k: common, p: true };
      }
    }

    const objects: ObjectInfo[] = [];
    for (let i = 0; i < keys.length; i += LIST_CONCURRENCY) {
      const batch = keys.slice(i, i + LIST_CONCURRENCY).map((key) => this.listEntry(bucket, key));
      for (const info of await Promise.all(batch)) if (info) objects.push(info);
    }
    return more && last ? { objects, prefixes, nextToken: encodeToken(last) } : { objects, prefixes };
  }

  async delete(bucket: string, key: string): Promise<void> {
    const path = this.pathOf(bucket, key);
    await this.requireBucket(bucket);
    await this.exclusive(bucket, key, async () => {
      try {
        await rm(path, { force: true });
      } catch (error) {
        // A directory at the key is a key prefix, not an object: there is nothing to delete, as in S3.
        if ((error as NodeJS.ErrnoException).code !== 'ERR_FS_EISDIR') {
          throw await this.fsError(error, bucket, key, 'delete');
        }
      }
      await rm(this.sidecarPath(bucket, key), { force: true });
      await this.pruneEmptyDirs(dirname(path), this.bucketDir(bucket));
    });
  }

  async copy(bucket: string, fromKey: string, toKey: string): Promise<ObjectInfo> {
    this.pathOf(bucket, toKey);
    const { body, info } = await this.get(bucket, fromKey);
    try {
      const sidecar = await this.readSidecar(bucket, fromKey);
      // As S3's default directives (COPY): metadata and tags travel with the bytes.
      return await this.write(bucket, toKey, body, {
        contentType: info.contentType,
        metadata: info.metadata,
        tags: sidecar?.tags,
      });
    } finally {
      body.destroy();
    }
  }

  async tag(bucket: string, key: string, tags: Readonly<Record<string, string>>): Promise<void> {
    validateTags(tags);
    const path = this.pathOf(bucket, key);
    await this.exclusive(bucket, key, async () => {
      const handle = await open(path, 'r').catch(async (error: unknown) => {
        throw await this.fsError(error, bucket, key, 'tag');
      });
      try {
        const stats = await handle.stat();
        if (!stats.isFile()) throw new ObjectNotFoundError(this.objectUri(bucket, key));
        const current = await this.readSidecar(bucket, key, stats);
        const sidecar: Sidecar = {
          ...(current ?? sidecarFor(stats, await md5Of(handle, stats.size), {})),
          tags: { ...tags },
        };
        const temp = this.tempPath('json');
        await mkdir(dirname(temp), { recursive: true });
        await writeSynced(temp, JSON.stringify(sidecar));
        const target = this.sidecarPath(bucket, key);
        await mkdir(dirname(target), { recursive: true });
        await rename(temp, target);
      } finally {
        await handle.close();
      }
    });
  }

  /** The object's tags (S3 GetObjectTagging); `{}` when it has none. */
  async tags(bucket: string, key: string): Promise<Record<string, string>> {
    const path = this.pathOf(bucket, key);
    const stats = await stat(path).catch(async (error: unknown) => {
      throw await this.fsError(error, bucket, key, 'read');
    });
    if (!stats.isFile()) throw new ObjectNotFoundError(this.objectUri(bucket, key));
    const sidecar = await this.readSidecar(bucket, key, stats);
    return { ...(sidecar?.tags ?? {}) };
  }

  private async write(
    bucket: string,
    key: string,
    chunks: AsyncIterable<unknown> | Iterable<Buffer>,
    attributes: Attributes,
  ): Promise<ObjectInfo> {
    const path = this.pathOf(bucket, key);
    const uri = this.objectUri(bucket, key);
    const tempData = this.tempPath('data');
    await mkdir(dirname(tempData), { recursive: true });
    const handle = await open(tempData, 'wx');
    const hash = createHash('md5');
    let stats: Stats;
    try {
      for await (const chunk of chunks) {
        const buffer = toBuffer(chunk);
        hash.update(buffer);
        await writeAll(handle, buffer);
      }
      await handle.sync();
      stats = await handle.stat();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(tempData, { force: true });
      throw error instanceof SourceError
        ? error
        : new SourceError(StorageErrorCode.failed, `cannot store ${uri}: ${(error as Error).message}`, {
            cause: error,
            location: { source: uri },
          });
    }
    await handle.close();

    const sidecar = sidecarFor(stats, hash.digest('hex'), attributes);
    const tempMeta = this.tempPath('json');
    const metaPath = this.sidecarPath(bucket, key);
    try {
      await writeSynced(tempMeta, JSON.stringify(sidecar));
      await this.exclusive(bucket, key, async () => {
        await mkdir(dirname(metaPath), { recursive: true });
        await rename(tempMeta, metaPath);
        try {
          // The data rename is the commit point; a delete pruning the empty parent in between is retried.
          for (let attempt = 1; ; attempt++) {
            await mkdir(dirname(path), { recursive: true });
            try {
              await rename(tempData, path);
              break;
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 3) throw error;
            }
          }
        } catch (error) {
          await rm(metaPath, { force: true });
          throw error;
        }
        await fsyncPath(dirname(path));
      });
    } catch (error) {
      await rm(tempData, { force: true });
      await rm(tempMeta, { force: true });
      throw await this.fsError(error, bucket, key, 'store');
    }
    return infoOf(bucket, key, stats, sidecar);
  }

  private async describe(
    bucket: string,
    key: string,
    stats: Stats,
    handle?: FileHandle,
  ): Promise<ObjectInfo> {
    const sidecar = await this.readSidecar(bucket, key, stats);
    if (sidecar) return infoOf(bucket, key, stats, sidecar);
    const etag = handle ? await md5Of(handle, stats.size) : await md5OfPath(this.pathOf(bucket, key));
    return infoOf(bucket, key, stats, sidecarFor(stats, etag, {}));
  }

  /** Lists report what the sidecar knows; hashing every unknown file of a page would make listing O(bytes). */
  private async listEntry(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const stats = await stat(this.pathOf(bucket, key)).catch(() => undefined);
    if (!stats?.isFile()) return undefined;
    const sidecar = await this.readSidecar(bucket, key, stats);
    return {
      bucket,
      key,
      size: stats.size,
      lastModified: stats.mtime,
      ...(sidecar ? { etag: sidecar.etag } : {}),
    };
  }

  private async readSidecar(bucket: string, key: string, stats?: Stats): Promise<Sidecar | undefined> {
    let parsed: Partial<Sidecar>;
    try {
      parsed = JSON.parse(await readFile(this.sidecarPath(bucket, key), 'utf8')) as Partial<Sidecar>;
    } catch {
      return undefined;
    }
    if (parsed.v !== 1 || typeof parsed.etag !== 'string') return undefined;
    if (
      stats &&
      (parsed.ino !== stats.ino || parsed.size !== stats.size || parsed.mtimeMs !== stats.mtimeMs)
    ) {
      return undefined;
    }
    return parsed as Sidecar;
  }

  private bucketDir(bucket: string): string {
    return join(this.root, ...bucketSegments(bucket));
  }

  private sidecarPath(bucket: string, key: string): string {
    const name = createHash('sha256').update(key).digest('hex');
    return join(this.root, META_DIR, encodeURIComponent(bucketSegments(bucket).join('/')), `${name}.json`);
  }

  private tempPath(suffix: string): string {
    return join(this.root, TMP_DIR, `${Date.now()}-${randomBytes(8).toString('hex')}.${suffix}`);
  }

  private async requireBucket(bucket: string): Promise<void> {
    const stats = await stat(this.bucketDir(bucket)).catch(() => undefined);
    if (!stats?.isDirectory()) throw this.noBucket(bucket);
  }

  private noBucket(bucket: string): SourceError {
    const dir = this.bucketDir(bucket);
    return new SourceError(
      StorageErrorCode.bucketNotFound,
      `bucket "${bucket}" does not exist: create the directory ${dir} (or check the bucket name)`,
      { location: { source: pathToFileURL(dir).href } },
    );
  }

  private async fsError(error: unknown, bucket: string, key: string, action: string): Promise<SourceError> {
    if (error instanceof SourceError) return error;
    const uri = this.objectUri(bucket, key);
    const code = (error as NodeJS.ErrnoException).code;
    // mkdir over a file reports EEXIST; only a store can meet it, reads never create directories.
    if (
      code === 'ENOENT' ||
      code === 'ENOTDIR' ||
      code === 'EISDIR' ||
      (code === 'EEXIST' && action === 'store')
    ) {
      const bucketStats = await stat(this.bucketDir(bucket)).catch(() => undefined);
      if (!bucketStats?.isDirectory()) return this.noBucket(bucket);
      if (action === 'store') {
        return new SourceError(
          StorageErrorCode.keyConflict,
          `cannot store ${uri}: a file system cannot hold both a key and keys under it as a "directory" (e.g. "a" and "a/b"); rename one of them`,
          { cause: error, location: { source: uri } },
        );
      }
      return new ObjectNotFoundError(uri, { cause: error });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      return new SourceError(
        StorageErrorCode.accessDenied,
        `cannot ${action} ${uri}: permission denied; check the owner and mode of ${this.root}`,
        { cause: error, location: { source: uri } },
      );
    }
    return new SourceError(StorageErrorCode.failed, `cannot ${action} ${uri}: ${(error as Error).message}`, {
      cause: error,
      location: { source: uri },
    });
  }

  private async pruneEmptyDirs(dir: string, stop: string): Promise<void> {
    while (dir.length > stop.length && dir.startsWith(stop)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
      dir = dirname(dir);
    }
  }

  private async exclusive<T>(bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    const id = `${bucketSegments(bucket).join('/')}\0${key}`;
    const previous = this.locks.get(id) ?? Promise.resolve();
    const run = previous.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(id, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }
}

function invalidKey(message: string): SourceError {
  return new SourceError(StorageErrorCode.invalidKey, message);
}

function keySegments(key: string): string[] {
  if (typeof key !== 'string' || key.length === 0) throw invalidKey('an object key must not be empty');
  if (Buffer.byteLength(key) > 1024)
    throw invalidKey('an object key must be at most 1024 bytes (UTF-8), as in S3');
  if (key.includes('\0')) throw invalidKey(`object key ${JSON.stringify(key)} contains a NUL character`);
  if (key.startsWith('/')) {
    throw invalidKey(`object key ${JSON.stringify(key)} starts with "/": keys are relative to their bucket`);
  }
  const segments = key.split('/');
  for (const segment of segments) {
    if (segment === '..' || segment === '.') {
      throw invalidKey(
        `object key ${JSON.stringify(key)} has a "${segment}" segment, which a file:// store refuses because it would leave the bucket`,
      );
    }
    if (segment === '') {
      throw invalidKey(
        `object key ${JSON.stringify(key)} has an empty segment ("//" or a trailing "/"), which cannot be a file`,
      );
    }
  }
  return segments;
}

function bucketSegments(bucket: string): string[] {
  if (typeof bucket !== 'string' || bucket.includes('\0')) {
    throw invalidKey(`bucket ${JSON.stringify(bucket)} is not a valid directory name`);
  }
  // A leading "/" is accepted so that the bucket of parseObjectUri('file:///dir/x') works with a store rooted at "/".
  const segments = bucket.replace(/^\/+|\/+$/g, '').split('/');
  const first = segments[0] ?? '';
  if (
    first === '' ||
    first === META_DIR ||
    first === TMP_DIR ||
    segments.some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw invalidKey(
      `bucket ${JSON.stringify(bucket)} must be a directory inside the store's root (no "..", ".", empty segments, or ${META_DIR}/${TMP_DIR})`,
    );
  }
  return segments;
}

function refuseVersion(versionId: string | undefined): void {
  if (versionId !== undefined) {
    throw new SourceError(
      StorageErrorCode.failed,
      `file:// stores keep no versions, so versionId ${JSON.stringify(versionId)} cannot be read; use s3:// for versioned buckets`,
    );
  }
}

function sidecarFor(stats: Stats, etag: string, attributes: Attributes): Sidecar {
  return {
    v: 1,
    etag,
    size: stats.size,
    ino: stats.ino,
    mtimeMs: stats.mtimeMs,
    ...(attributes.contentType === undefined ? {} : { contentType: attributes.contentType }),
    ...(attributes.metadata === undefined ? {} : { metadata: { ...attributes.metadata } }),
    ...(attributes.tags === undefined ? {} : { tags: { ...attributes.tags } }),
  };
}

function infoOf(bucket: string, key: string, stats: Stats, sidecar: Sidecar): ObjectInfo {
  return {
    bucket,
    key,
    size: stats.size,
    etag: sidecar.etag,
    lastModified: stats.mtime,
    ...(sidecar.contentType === undefined ? {} : { contentType: sidecar.contentType }),
    metadata: { ...(sidecar.metadata ?? {}) },
  };
}

/** S3 stores user metadata keys in lower case (they travel as HTTP headers); matching it keeps adapters alike. */
function lowerKeys(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]));
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`a put body must yield bytes or strings, got ${typeof chunk}`);
}

async function md5Of(handle: FileHandle, size: number): Promise<string> {
  const hash = createHash('md5');
  const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, Math.max(size, 1)));
  for (let position = 0; position < size; ) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

async function md5OfPath(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    return await md5Of(handle, (await handle.stat()).size);
  } finally {
    await handle.close();
  }
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Yields the keys under `dir` in UTF-8 binary order without sorting the whole bucket: a directory
 * sorts as its name plus "/", which is exactly where its keys fall among its siblings. Directories
 * that cannot hold a key matching `prefix`, or only hold keys at or before `after`, are skipped unread.
 */
async function* walk(
  dir: string,
  rel: string,
  prefix: string,
  after: string | undefined,
): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  const items = entries
    .filter((entry) => entry.isDirectory() || entry.isFile() || entry.isSymbolicLink())
    .map((entry) => {
      const path = rel + entry.name + (entry.isDirectory() ? '/' : '');
      return { entry, path, sort: Buffer.from(path) };
    })
    .sort((a, b) => Buffer.compare(a.sort, b.sort));
  for (const { entry, path } of items) {
    if (entry.isDirectory()) {
      if (!path.startsWith(prefix) && !prefix.startsWith(path)) continue;
      if (after !== undefined && compareUtf8(after, path) > 0 && !after.startsWith(path)) continue;
      yield* walk(join(dir, entry.name), path, prefix, after);
    } else if (path.startsWith(prefix)) {
      yield path;
    }
  }
}

interface Token {
  /** The last key or common prefix returned. */
  readonly k: string;
  /** `k` is a common prefix: skip every key under it too. */
  readonly p?: true;
}

function encodeToken(token: Token): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(token: string): Token {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<Token>;
    if (typeof parsed.k === 'string') return parsed.p ? { k: parsed.k, p: true } : { k: parsed.k };
  } catch {
    // Reported below with the same message as a well-formed but foreign token.
  }
  throw new SourceError(
    StorageErrorCode.failed,
    'invalid list continuation token: pass the nextToken of the previous page unchanged',
  );
}
