/**
 * The archive repository: an ObjectStore bucket and key prefix, opened with the snapshot key. Every read
 * and write of sealed objects goes through here, so callers deal in plaintext and names.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ObjectNotFoundError } from '../../storage/errors.js';
import type { ObjectInfo, ObjectStore } from '../../storage/object-store.js';
import { SnapshotError } from '../errors.js';
import { type ChunkerParams, checkChunkerParams, DEFAULT_CHUNKER } from './chunker.js';
import { type ArchiveKeys, checksMatch, deriveKeys, seal, unseal } from './crypto.js';
import {
  isChunkName,
  isSnapshotId,
  keys,
  type Manifest,
  parseManifest,
  parseRepositoryConfig,
  parseSummary,
  REPOSITORY_FORMAT,
  REPOSITORY_VERSION,
  type RepositoryConfig,
  type Summary,
} from './manifest.js';

export interface RepositoryLocation {
  readonly store: ObjectStore;
  readonly bucket: string;
  /** '' or ending in '/'. */
  readonly prefix: string;
  /** For messages: `s3://bucket/prefix/` or `file:///dir`. */
  readonly uri: string;
  /** Create the bucket before the first write (the file store's directory); S3 buckets must exist. */
  readonly ensureBucket?: () => Promise<void>;
}

export class Repository {
  private constructor(
    readonly location: RepositoryLocation,
    readonly config: RepositoryConfig,
    readonly keys: ArchiveKeys,
  ) {}

  get uri(): string {
    return this.location.uri;
  }

  get chunker(): ChunkerParams {
    return this.config.chunker;
  }

  /** The repository at `location`, or undefined when nothing was ever written there. */
  static async open(location: RepositoryLocation, key: Buffer): Promise<Repository | undefined> {
    const text = await readText(location, keys.config(location.prefix)).catch((error: unknown) => {
      if (error instanceof ObjectNotFoundError || isMissingBucket(error)) return undefined;
      throw error;
    });
    if (text === undefined) return undefined;
    const config = parseRepositoryConfig(text, location.uri);
    const derived = deriveKeys(key, Buffer.from(config.salt, 'base64'));
    if (!checksMatch(derived.check, config.keyCheck)) {
      throw new SnapshotError(
        'wrong_key',
        `the snapshot key does not open the snapshots in ${location.uri} (key check ${derived.check.slice(0, 8)}…, ` +
          `the repository expects ${config.keyCheck.slice(0, 8)}…): use the key they were made with ` +
          '(INLET_SNAPSHOT_KEY or INLET_SNAPSHOT_KEY_FILE).',
      );
    }
    checkChunkerParams(config.chunker);
    return new Repository(location, config, derived);
  }

  /** Opens the repository, creating it (a new salt and key check) when there is none yet. */
  static async openOrCreate(
    location: RepositoryLocation,
    key: Buffer,
    chunker: ChunkerParams = DEFAULT_CHUNKER,
  ): Promise<Repository> {
    const existing = await Repository.open(location, key);
    if (existing !== undefined) return existing;
    await location.ensureBucket?.();
    const salt = randomBytes(32);
    const config: RepositoryConfig = {
      format: REPOSITORY_FORMAT,
      version: REPOSITORY_VERSION,
      salt: salt.toString('base64'),
      keyCheck: deriveKeys(key, salt).check,
      chunker,
      createdAt: new Date().toISOString(),
    };
    await location.store.put(location.bucket, keys.config(location.prefix), `${JSON.stringify(config)}\n`, {
      contentType: 'application/json',
    });
    // Two first snapshots racing: whichever config landed last is the one; re-read so both agree on it.
    const opened = await Repository.open(location, key);
    if (opened === undefined) throw new SnapshotError('no_repository', `could not create ${location.uri}.`);
    return opened;
  }

  /** Stores sealed bytes as they are. */
  async putObject(key: string, sealed: Buffer): Promise<void> {
    await this.location.store.put(this.location.bucket, key, sealed, {
      contentType: 'application/octet-stream',
    });
  }

  /** Seals the chunk and stores it; resolves with the stored size. */
  async putChunk(name: string, plaintext: Buffer): Promise<number> {
    const sealed = seal(this.keys, 'chunk', name, plaintext);
    await this.putObject(keys.chunk(this.location.prefix, name), sealed);
    return sealed.length;
  }

  /** The chunk's plaintext; SnapshotError `chunk_missing` or `chunk_tampered` otherwise. */
  async getChunk(name: string, usedBy: string): Promise<Buffer> {
    const what = `chunk ${name} (of ${usedBy})`;
    const sealed = await this.getBytes(keys.chunk(this.location.prefix, name)).catch((error: unknown) => {
      if (error instanceof ObjectNotFoundError) {
        throw new SnapshotError('chunk_missing', `${what} is missing from ${this.uri}.`, { cause: error });
      }
      throw error;
    });
    return unseal(this.keys, 'chunk', name, sealed, what);
  }

  /** The summaries of every complete snapshot, oldest first. Unreadable ones are reported, not skipped. */
  async summaries(): Promise<Summary[]> {
    const ids: string[] = [];
    for await (const info of this.listObjects(keys.summaryPrefix(this.location.prefix))) {
      const id = info.key.slice(keys.summaryPrefix(this.location.prefix).length);
      if (isSnapshotId(id)) ids.push(id);
    }
    ids.sort();
    return mapLimit(ids, 8, (id) => this.summary(id));
  }

  async summary(id: string): Promise<Summary> {
    const sealed = await this.getBytes(keys.summary(this.location.prefix, id)).catch((error: unknown) => {
      if (error instanceof ObjectNotFoundError) {
        throw new SnapshotError(
          'snapshot_not_found',
          `there is no snapshot ${id} in ${this.uri}; list them with: inlet snapshot list`,
          { cause: error },
        );
      }
      throw error;
    });
    const text = unseal(this.keys, 'summary', id, sealed, `the summary of snapshot ${id}`);
    return parseSummary(JSON.parse(text.toString('utf8')), id);
  }

  async manifest(summary: Summary): Promise<Manifest> {
    const key = keys.manifest(this.location.prefix, summary.id);
    const sealed = await this.getBytes(key).catch((error: unknown) => {
      if (error instanceof ObjectNotFoundError) {
        throw new SnapshotError('manifest_tampered', `the manifest of snapshot ${summary.id} is missing.`, {
          cause: error,
        });
      }
      throw error;
    });
    if (createHash('sha256').update(sealed).digest('hex') !== summary.manifestSha256) {
      throw new SnapshotError(
        'manifest_tampered',
        `the manifest of snapshot ${summary.id} is not the one its summary names: it was replaced or damaged.`,
      );
    }
    const text = unseal(this.keys, 'manifest', summary.id, sealed, `the manifest of snapshot ${summary.id}`);
    return parseManifest(JSON.parse(text.toString('utf8')), summary.id);
  }

  /** Names of every chunk stored, read from the listing (not the chunks). */
  async chunkNames(): Promise<Map<string, number>> {
    const names = new Map<string, number>();
    for await (const info of this.listObjects(keys.chunkPrefix(this.location.prefix))) {
      const name = info.key.slice(info.key.lastIndexOf('/') + 1);
      if (isChunkName(name)) names.set(name, info.size);
    }
    return names;
  }

  async *listObjects(prefix: string): AsyncGenerator<ObjectInfo> {
    let token: string | undefined;
    do {
      const page = await this.location.store
        .list(this.location.bucket, { prefix, ...(token === undefined ? {} : { token }) })
        .catch((error: unknown) => {
          if (isMissingBucket(error)) return { objects: [], prefixes: [], nextToken: undefined };
          throw error;
        });
      yield* page.objects;
      token = page.nextToken;
    } while (token !== undefined);
  }

  async delete(key: string): Promise<void> {
    await this.location.store.delete(this.location.bucket, key);
  }

  async getBytes(key: string): Promise<Buffer> {
    const { body } = await this.location.store.get(this.location.bucket, key);
    return readAll(body);
  }
}

async function readText(location: RepositoryLocation, key: string): Promise<string> {
  const { body } = await location.store.get(location.bucket, key);
  return (await readAll(body)).toString('utf8');
}

async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

function isMissingBucket(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === 'bucket_not_found';
}

/** Runs `fn` over `items` with at most `limit` at once; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
