import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DirectorySyncer,
  durableRename,
  fsyncPath,
  Mutex,
  removeDurably,
  writeFileDurably,
  writeSynced,
} from '../storage/durable.js';
import { type BodyDigests, type ChecksumAlgorithm, DigestingStream } from './checksums.js';
import { s3Errors } from './errors.js';

/** What a client set on an object besides its bytes. */
export interface ObjectAttributes {
  contentType: string;
  /** `x-amz-meta-*` without the prefix, names lower-cased as S3 returns them. */
  metadata: Record<string, string>;
  /** Content-Encoding, Content-Disposition, Cache-Control, Content-Language, Expires: returned as stored. */
  headers: Record<string, string>;
  tags: Record<string, string>;
}

export interface ObjectMeta extends ObjectAttributes {
  key: string;
  size: number;
  /** Without quotes: hex MD5, or `<hex>-N` for multipart uploads. */
  etag: string;
  lastModified: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
  /** The data file's name inside the bucket's objects directory; changes on every overwrite. */
  dataFile: string;
}

export interface PartMeta {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

export interface UploadMeta extends ObjectAttributes {
  uploadId: string;
  key: string;
  initiated: string;
  checksumAlgorithm: ChecksumAlgorithm | undefined;
}

export type CreatedHow = 'Put' | 'Post' | 'Copy' | 'CompleteMultipartUpload';

/** The request that created an object, for the event record. */
export interface Origin {
  requestId: string;
  sourceIp: string;
}

export interface WriteOptions {
  algorithms: ChecksumAlgorithm[];
  sha256: boolean;
  /** Throws the S3 error for a digest mismatch; returns the checksums to keep with the object. */
  verify: (digests: BodyDigests) => Partial<Record<ChecksumAlgorithm, string>>;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const UPLOAD_ID = /^[0-9a-f]{32}$/;
const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_KEY_BYTES = 1024;

export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Keys may hold any character; file names are derived by hashing so no key can name a path outside the bucket. */
function keyFileStem(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

interface BucketState {
  name: string;
  created: string;
  objects: Map<string, ObjectMeta>;
  /** Keys in UTF-8 byte order, as ListObjectsV2 returns them. */
  sorted: string[];
}

/**
 * The gateway's disk layout: `<dataDir>/<bucket>/{bucket.json, objects/, uploads/, tmp/}`. An object is a data
 * file plus a sidecar JSON that names it; replacing the sidecar by rename is the commit, so a crash leaves either
 * the old object or the new one. An in-memory index, rebuilt from the sidecars at start, answers listings.
 */
export class BucketStore {
  private readonly buckets = new Map<string, BucketState>();
  private readonly commits = new Mutex();
  private readonly syncer = new DirectorySyncer();

  constructor(
    private readonly dataDir: string,
    private readonly onCreated: (
      bucket: string,
      meta: ObjectMeta,
      how: CreatedHow,
      origin: Origin,
      durable: Promise<void>,
    ) => Promise<void> | undefined,
  ) {}

  async open(initialBuckets: string[]): Promise<void> {
    await fs.mkdir(this.dataDir, { recursive: true });
    for (const entry of await fs.readdir(this.dataDir, { withFileTypes: true })) {
      if (entry.isDirectory() && BUCKET_NAME.test(entry.name)) await this.loadBucket(entry.name);
    }
    for (const name of initialBuckets) if (!this.buckets.has(name)) await this.createBucket(name);
  }

  private dir(bucket: string, ...rest: string[]): string {
    return path.join(this.dataDir, bucket, ...rest);
  }

  private async loadBucket(name: string): Promise<void> {
    let created: string;
    try {
      created = (JSON.parse(await fs.readFile(this.dir(name, 'bucket.json'), 'utf8')) as { created: string })
        .created;
    } catch {
      return; // not a bucket this gateway made
    }
    await fs.rm(this.dir(name, 'tmp'), { recursive: true, force: true });
    await fs.mkdir(this.dir(name, 'tmp'), { recursive: true });
    await fs.mkdir(this.dir(name, 'uploads'), { recursive: true });
    const objectsDir = this.dir(name, 'objects');
    await fs.mkdir(objectsDir, { recursive: true });
    const state: BucketState = { name, created, objects: new Map(), sorted: [] };
    const files = await fs.readdir(objectsDir);
    const referenced = new Set<string>();
    for (const file of files.filter((f) => f.endsWith('.json'))) {
      const meta = JSON.parse(await fs.readFile(path.join(objectsDir, file), 'utf8')) as ObjectMeta;
      state.objects.set(meta.key, meta);
      referenced.add(meta.dataFile);
    }
    // Data files no sidecar names are leftovers of a crash between writing and committing.
    for (const file of files.filter((f) => f.endsWith('.data') && !referenced.has(f))) {
      await fs.rm(path.join(objectsDir, file), { force: true });
    }
    state.sorted = [...state.objects.keys()].sort(compareKeys);
    this.buckets.set(name, state);
  }

  listBuckets(): Array<{ name: string; created: string }> {
    return [...this.buckets.values()]
      .map(({ name, created }) => ({ name, created }))
      .sort((a, b) => compareKeys(a.name, b.name));
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  private bucket(name: string): BucketState {
    const state = this.buckets.get(name);
    if (state === undefined) throw s3Errors.noSuchBucket(name);
    return state;
  }

  async createBucket(name: string): Promise<void> {
    if (!BUCKET_NAME.test(name) || name.includes('..')) throw s3Errors.invalidBucketName(name);
    await this.commits.run(async () => {
      if (this.buckets.has(name)) throw s3Errors.bucketAlreadyOwnedByYou(name);
      for (const sub of ['objects', 'uploads', 'tmp'])
        await fs.mkdir(this.dir(name, sub), { recursive: true });
      const created = new Date().toISOString();
      await writeFileDurably(
        this.dir(name, 'tmp'),
        this.dir(name, 'bucket.json'),
        JSON.stringify({ created }),
      );
      await fsyncPath(this.dataDir);
      this.buckets.set(name, { name, created, objects: new Map(), sorted: [] });
    });
  }

  async deleteBucket(name: string): Promise<void> {
    await this.commits.run(async () => {
      const state = this.bucket(name);
      if (state.objects.size > 0) throw s3Errors.bucketNotEmpty(name);
      this.buckets.delete(name);
      await fs.rm(this.dir(name), { recursive: true, force: true });
      await fsyncPath(this.dataDir);
    });
  }

  head(bucket: string, key: string): ObjectMeta {
    const meta = this.bucket(bucket).objects.get(key);
    if (meta === undefined) throw s3Errors.noSuchKey(key);
    return meta;
  }

  /** Opens the object's bytes (inclusive `end`). Opened before returning, so a concurrent overwrite cannot pull it away. */
  async read(
    bucket: string,
    key: string,
    range?: { start: number; end: number },
  ): Promise<{ meta: ObjectMeta; body: Readable }> {
    for (let attempt = 0; ; attempt++) {
      const meta = this.head(bucket, key);
      try {
        const handle = await fs.open(this.dir(bucket, 'objects', meta.dataFile), 'r');
        const body = handle.createReadStream(
          range === undefined ? {} : { start: range.start, end: range.end },
        );
        return { meta, body };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 2) throw err;
      }
    }
  }

  /** Streams `body` to a synced temporary file in the bucket, hashing on the way; the caller commits or discards it. */
  private async spool(bucket: string, body: Readable, options: WriteOptions) {
    const tmp = this.dir(bucket, 'tmp', `${randomUUID()}.data`);
    const digester = new DigestingStream({ algorithms: options.algorithms, sha256Hex: options.sha256 });
    try {
      await pipeline(body, digester, createWriteStream(tmp, { flags: 'wx' }));
      await fsyncPath(tmp);
      const digests = digester.digestsResult;
      const checksums = options.verify(digests);
      return { tmp, digests, checksums };
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }

  async putObject(
    bucket: string,
    key: string,
    body: Readable,
    attributes: ObjectAttributes,
    options: WriteOptions,
    origin: Origin,
  ): Promise<ObjectMeta> {
    this.bucket(bucket);
    checkKey(key);
    const spooled = await this.spool(bucket, body, options);
    return this.commitSpooled(bucket, key, spooled, attributes, 'Put', origin);
  }

  async copyObject(
    source: { bucket: string; key: string },
    bucket: string,
    key: string,
    attributes: (sourceMeta: ObjectMeta) => ObjectAttributes,
    origin: Origin,
  ): Promise<ObjectMeta> {
    this.bucket(bucket);
    checkKey(key);
    const { meta: sourceMeta, body } = await this.read(source.bucket, source.key);
    const algorithms = Object.keys(sourceMeta.checksums) as ChecksumAlgorithm[];
    const spooled = await this.spool(bucket, body, { algorithms, sha256: false, verify: (d) => d.checksums });
    return this.commitSpooled(bucket, key, spooled, attributes(sourceMeta), 'Copy', origin);
  }

  /** A body spooled by `spool()` becomes the object `key`, with its size, ETag and checksums. */
  private commitSpooled(
    bucket: string,
    key: string,
    { tmp, digests, checksums }: Awaited<ReturnType<BucketStore['spool']>>,
    attributes: ObjectAttributes,
    how: CreatedHow,
    origin: Origin,
  ): Promise<ObjectMeta> {
    const meta: ObjectMeta = {
      ...attributes,
      key,
      size: digests.size,
      etag: digests.md5Hex,
      lastModified: new Date().toISOString(),
      checksums,
      dataFile: '',
    };
    return this.commitObject(bucket, tmp, meta, how, origin);
  }

  private async commitObject(
    bucket: string,
    tmp: string,
    meta: ObjectMeta,
    how: CreatedHow,
    origin: Origin,
  ): Promise<ObjectMeta> {
    const stem = keyFileStem(meta.key);
    const dataFile = `${stem}.${randomBytes(8).toString('hex')}.data`;
    const objectsDir = this.dir(bucket, 'objects');
    const committed: ObjectMeta = { ...meta, dataFile };
    const sidecarTmp = this.dir(bucket, 'tmp', `${randomUUID()}.json`);
    try {
      // Until the sidecar is renamed, the new data file is an orphan that a restart would sweep away; so only
      // that rename and one sync of the directory (covering both entries) need to be inside the commit lock.
      await fs.rename(tmp, path.join(objectsDir, dataFile));
      await writeSynced(sidecarTmp, JSON.stringify(committed));
      // The lock orders commits (and so events); the directory sync that makes them durable is shared.
      const { previous, durable, announced } = await this.commits.run(async () => {
        const state = this.bucket(bucket);
        await fs.rename(sidecarTmp, path.join(objectsDir, `${stem}.json`));
        const previous = state.objects.get(meta.key);
        this.setIndex(state, committed);
        const durable = this.syncer.sync(objectsDir);
        const announced = this.onCreated(bucket, committed, how, origin, durable);
        return { previous, durable, announced };
      });
      await durable;
      // The object is acknowledged only once its event is saved too: a crash after the answer loses neither.
      await announced;
      // Only once the new sidecar is durable may the old data go: a crash before would bring the old sidecar back.
      if (previous !== undefined) await fs.rm(path.join(objectsDir, previous.dataFile), { force: true });
      return committed;
    } catch (err) {
      await fs.rm(tmp, { force: true });
      await fs.rm(sidecarTmp, { force: true });
      if (this.buckets.get(bucket)?.objects.get(meta.key)?.dataFile !== dataFile) {
        await fs.rm(path.join(objectsDir, dataFile), { force: true });
      }
      throw err;
    }
  }

  private setIndex(state: BucketState, meta: ObjectMeta): void {
    if (!state.objects.has(meta.key)) {
      const at = lowerBound(state.sorted, meta.key);
      state.sorted.splice(at, 0, meta.key);
    }
    state.objects.set(meta.key, meta);
  }

  async putTags(bucket: string, key: string, tags: Record<string, string>): Promise<void> {
    await this.commits.run(async () => {
      const state = this.bucket(bucket);
      const meta = this.head(bucket, key);
      const updated = { ...meta, tags };
      await writeFileDurably(
        this.dir(bucket, 'tmp'),
        this.dir(bucket, 'objects', `${keyFileStem(key)}.json`),
        JSON.stringify(updated),
      );
      state.objects.set(key, updated);
    });
  }

  /** Deleting a missing key succeeds, as in S3. */
  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.commits.run(async () => {
      const state = this.bucket(bucket);
      const meta = state.objects.get(key);
      if (meta === undefined) return;
      await removeDurably(this.dir(bucket, 'objects', `${keyFileStem(key)}.json`));
      state.objects.delete(key);
      const at = lowerBound(state.sorted, key);
      if (state.sorted[at] === key) state.sorted.splice(at, 1);
      await fs.rm(this.dir(bucket, 'objects', meta.dataFile), { force: true });
    });
  }

  /** Keys in order, strictly after `after` (or all), for listings to page through. */
  *keysAfter(bucket: string, after: string | undefined, prefix: string): Generator<string> {
    const state = this.bucket(bucket);
    let at = lowerBound(state.sorted, after !== undefined && compareKeys(after, prefix) > 0 ? after : prefix);
    for (; at < state.sorted.length; at++) {
      const key = state.sorted[at]!;
      if (after !== undefined && compareKeys(key, after) <= 0) continue;
      if (!key.startsWith(prefix)) return;
      yield key;
    }
  }

  // --- multipart uploads ---

  private uploadDir(bucket: string, uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw s3Errors.noSuchUpload(uploadId);
    return this.dir(bucket, 'uploads', uploadId);
  }

  async createUpload(
    bucket: string,
    key: string,
    attributes: ObjectAttributes,
    checksumAlgorithm: ChecksumAlgorithm | undefined,
  ): Promise<UploadMeta> {
    this.bucket(bucket);
    checkKey(key);
    const uploadId = randomBytes(16).toString('hex');
    const dir = this.uploadDir(bucket, uploadId);
    await fs.mkdir(dir);
    const meta: UploadMeta = {
      ...attributes,
      uploadId,
      key,
      initiated: new Date().toISOString(),
      checksumAlgorithm,
    };
    await writeFileDurably(this.dir(bucket, 'tmp'), path.join(dir, 'upload.json'), JSON.stringify(meta));
    return meta;
  }

  async getUpload(bucket: string, uploadId: string, key?: string): Promise<UploadMeta> {
    this.bucket(bucket);
    try {
      const meta = JSON.parse(
        await fs.readFile(path.join(this.uploadDir(bucket, uploadId), 'upload.json'), 'utf8'),
      ) as UploadMeta;
      if (key !== undefined && meta.key !== key) throw s3Errors.noSuchUpload(uploadId);
      return meta;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw s3Errors.noSuchUpload(uploadId);
      throw err;
    }
  }

  async putPart(
    bucket: string,
    upload: UploadMeta,
    partNumber: number,
    body: Readable,
    options: WriteOptions,
  ): Promise<PartMeta> {
    const dir = this.uploadDir(bucket, upload.uploadId);
    const { tmp, digests, checksums } = await this.spool(bucket, body, options);
    const name = `part-${String(partNumber).padStart(5, '0')}`;
    const part: PartMeta = {
      partNumber,
      etag: digests.md5Hex,
      size: digests.size,
      lastModified: new Date().toISOString(),
      checksums,
    };
    try {
      await durableRename(tmp, path.join(dir, `${name}.data`));
    } catch (err) {
      await fs.rm(tmp, { force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw s3Errors.noSuchUpload(upload.uploadId);
      throw err;
    }
    await writeFileDurably(this.dir(bucket, 'tmp'), path.join(dir, `${name}.json`), JSON.stringify(part));
    return part;
  }

  async listParts(bucket: string, uploadId: string): Promise<PartMeta[]> {
    const dir = this.uploadDir(bucket, uploadId);
    const files = (await fs.readdir(dir)).filter((f) => /^part-\d{5}\.json$/.test(f)).sort();
    return Promise.all(
      files.map(async (f) => JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as PartMeta),
    );
  }

  async listUploads(bucket: string): Promise<UploadMeta[]> {
    this.bucket(bucket);
    const ids = await fs.readdir(this.dir(bucket, 'uploads'));
    const uploads = await Promise.all(ids.map((id) => this.getUpload(bucket, id).catch(() => undefined)));
    return uploads.filter((u): u is UploadMeta => u !== undefined);
  }

  async abortUpload(bucket: string, uploadId: string): Promise<void> {
    await this.getUpload(bucket, uploadId);
    await fs.rm(this.uploadDir(bucket, uploadId), { recursive: true, force: true });
    await fsyncPath(this.dir(bucket, 'uploads'));
  }

  /** Concatenates the chosen parts into the object; ETag is the MD5 of the parts' binary MD5s plus `-N`. */
  async completeUpload(
    bucket: string,
    upload: UploadMeta,
    chosen: Array<{ partNumber: number; etag: string }>,
    origin: Origin,
  ): Promise<ObjectMeta> {
    if (chosen.length === 0) throw s3Errors.malformedXml();
    const dir = this.uploadDir(bucket, upload.uploadId);
    const stored = new Map((await this.listParts(bucket, upload.uploadId)).map((p) => [p.partNumber, p]));
    const parts: PartMeta[] = [];
    for (const [i, want] of chosen.entries()) {
      if (i > 0 && want.partNumber <= chosen[i - 1]!.partNumber) throw s3Errors.invalidPartOrder();
      const part = stored.get(want.partNumber);
      if (part === undefined || part.etag !== want.etag) throw s3Errors.invalidPart();
      if (i < chosen.length - 1 && part.size < MIN_PART_SIZE) throw s3Errors.entityTooSmall();
      parts.push(part);
    }
    const tmp = this.dir(bucket, 'tmp', `${randomUUID()}.data`);
    const etagHash = createHash('md5');
    let size = 0;
    try {
      const out = createWriteStream(tmp, { flags: 'wx' });
      for (const part of parts) {
        const name = `part-${String(part.partNumber).padStart(5, '0')}.data`;
        // A plain copy loop: pipeline(..., { end: false }) on one stream per part leaves its listeners
        // behind, which grow with the part count (up to 10,000 parts).
        for await (const chunk of createReadStream(path.join(dir, name))) {
          if (!out.write(chunk)) await once(out, 'drain');
        }
        etagHash.update(Buffer.from(part.etag, 'hex'));
        size += part.size;
      }
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
      await fsyncPath(tmp);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
    const { uploadId: _u, initiated: _i, checksumAlgorithm: _c, ...attributes } = upload;
    const meta = await this.commitObject(
      bucket,
      tmp,
      {
        ...attributes,
        size,
        etag: `${etagHash.digest('hex')}-${parts.length}`,
        lastModified: new Date().toISOString(),
        checksums: {},
        dataFile: '',
      },
      'CompleteMultipartUpload',
      origin,
    );
    await fs.rm(dir, { recursive: true, force: true });
    return meta;
  }
}

function checkKey(key: string): void {
  if (key.length === 0) throw s3Errors.invalidArgument('Object key must not be empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw s3Errors.keyTooLong();
}

function lowerBound(sorted: string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(sorted[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
