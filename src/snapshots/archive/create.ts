/**
 * Taking an archive snapshot: read the spool (scan.ts), cut each file into content-defined chunks, upload
 * the chunks the repository does not have yet, then write the manifest and, last, the summary that makes
 * the snapshot exist. A crash before the summary leaves only unreferenced objects, which prune removes.
 *
 * Files of at most 4 KiB (every upload's `meta.json`) travel inside the manifest instead.
 *
 * Incremental twice over: a chunk already stored (any earlier snapshot, any file) is not uploaded again,
 * and a file the previous snapshot read from the same inode with the same size, mtime and ctime is not
 * even read again (its chunk list is reused, as long as those chunks are still stored). A spool entry that
 * a worker moved from `incoming/` to `done/` keeps its inode, so it costs nothing.
 */
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Logger } from '../../observability/logger.js';
import { SnapshotError, throwIfAborted } from '../errors.js';
import { Chunker } from './chunker.js';
import { chunkName, seal } from './crypto.js';
import {
  isSnapshotId,
  keys,
  type Manifest,
  type ManifestDir,
  type ManifestFile,
  newSnapshotId,
  type Summary,
} from './manifest.js';
import type { Repository } from './repository.js';
import { type OpenFile, SourceScanner } from './scan.js';

export interface CreateArchiveOptions {
  readonly source: string;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  /** Chunk uploads in flight at once. @default 8 */
  readonly concurrency?: number;
}

const READ_ATTEMPTS = 3;
/** Files up to this size go into the manifest instead of a chunk object of their own. */
export const INLINE_MAX_BYTES = 4096;

export async function createArchiveSnapshot(
  repo: Repository,
  options: CreateArchiveOptions,
): Promise<Summary> {
  const started = Date.now();
  const id = newSnapshotId();
  const host = hostname();
  const scanner = new SourceScanner(options.source, options.logger);
  const stored = await repo.chunkNames();
  const previous = await previousFiles(repo, scanner.root, host, options.logger);
  const uploader = new Uploader(options.concurrency ?? 8);
  const chunker = new Chunker(repo.keys.gear, repo.chunker);
  const counters = { bytesUploaded: 0, chunksUploaded: 0 };
  const dirs: ManifestDir[] = [];
  const files: ManifestFile[] = [];

  const upload = (name: string, plaintext: Buffer) => {
    if (stored.has(name)) return Promise.resolve();
    // Marked before the upload finishes, so a chunk repeated in this run is sent once.
    stored.set(name, -1);
    return uploader.add(async () => {
      const size = await repo.putChunk(name, plaintext);
      counters.bytesUploaded += size;
      counters.chunksUploaded++;
    });
  };

  const readFile = async (file: OpenFile): Promise<ManifestFile> => {
    let stats = file.stats;
    const reuse = previous.get(`${stats.dev}:${stats.ino}`);
    if (
      reuse !== undefined &&
      reuse.size === stats.size &&
      reuse.mtimeMs === stats.mtimeMs &&
      reuse.ctimeMs === stats.ctimeMs &&
      reuse.chunks.every((name) => stored.has(name))
    ) {
      return { ...reuse, path: file.path, mode: stats.mode & 0o7777 };
    }
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      if (stats.size <= INLINE_MAX_BYTES) {
        const bytes = await readSmall(file.handle, stats.size);
        const after = await file.handle.stat();
        if (after.size === bytes.length && after.mtimeMs === stats.mtimeMs && bytes.length === stats.size) {
          return {
            ...describeFile(file.path, stats, createHash('sha256').update(bytes).digest('hex'), []),
            inline: bytes.toString('base64'),
          };
        }
        stats = after;
        continue;
      }
      const hash = createHash('sha256');
      const names: string[] = [];
      let size = 0;
      for await (const chunk of chunker.chunks(file.handle, stats.size)) {
        throwIfAborted(options.signal, `snapshot ${id}`);
        hash.update(chunk);
        size += chunk.length;
        const name = chunkName(repo.keys, chunk);
        names.push(name);
        await upload(name, chunk);
      }
      const after = await file.handle.stat();
      if (after.size === size && after.mtimeMs === stats.mtimeMs && after.size === stats.size) {
        return describeFile(file.path, stats, hash.digest('hex'), names);
      }
      // Written to while it was read (never so in the spool, whose files are written once): read again.
      stats = after;
    }
    throw new SnapshotError(
      'source_changed',
      `${file.path} kept changing while it was being read for snapshot ${id}; try again when it is quiet.`,
    );
  };

  try {
    for await (const unit of scanner.units()) {
      try {
        dirs.push(...unit.dirs);
        for (const file of unit.files) files.push(await readFile(file));
      } finally {
        await unit.close();
      }
    }
    await uploader.drain();
  } catch (error) {
    await uploader.settle();
    throw error;
  }

  const manifest: Manifest = {
    version: 1,
    id,
    createdAt: new Date(started).toISOString(),
    host,
    source: scanner.root,
    dirs,
    files,
  };
  const sealedManifest = seal(repo.keys, 'manifest', id, Buffer.from(JSON.stringify(manifest)));
  await repo.putObject(keys.manifest(repo.location.prefix, id), sealedManifest);
  const summaryBase = {
    version: 1 as const,
    id,
    createdAt: manifest.createdAt,
    host,
    source: scanner.root,
    files: files.length,
    bytes: files.reduce((sum, f) => sum + f.size, 0),
    chunks: new Set(files.flatMap((f) => f.chunks)).size,
    chunksUploaded: counters.chunksUploaded,
    manifestSha256: createHash('sha256').update(sealedManifest).digest('hex'),
  };
  // The summary counts its own size, which depends on the digits it holds: settle on a fixed point.
  const uploadedBefore = counters.bytesUploaded + sealedManifest.length;
  const durationMs = Date.now() - started;
  let summary: Summary = { ...summaryBase, bytesUploaded: uploadedBefore, durationMs };
  let sealedSummary = seal(repo.keys, 'summary', id, Buffer.from(JSON.stringify(summary)));
  for (let i = 0; i < 4 && summary.bytesUploaded !== uploadedBefore + sealedSummary.length; i++) {
    summary = { ...summary, bytesUploaded: uploadedBefore + sealedSummary.length };
    sealedSummary = seal(repo.keys, 'summary', id, Buffer.from(JSON.stringify(summary)));
  }
  await repo.putObject(keys.summary(repo.location.prefix, id), sealedSummary);
  options.logger?.info('archive snapshot created', {
    id,
    files: summary.files,
    bytes: summary.bytes,
    bytesUploaded: summary.bytesUploaded,
    chunksUploaded: summary.chunksUploaded,
    relocated: scanner.relocated,
    vanished: scanner.vanished,
    durationMs: summary.durationMs,
  });
  return summary;
}

/** The whole of a small file, read by position (a FileHandle's own position would make a retry read nothing). */
async function readSmall(handle: FileHandle, size: number): Promise<Buffer> {
  // One byte more than expected, to notice a file that grew.
  const buffer = Buffer.alloc(size + 1);
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

function describeFile(path: string, stats: Stats, sha256: string, chunks: string[]): ManifestFile {
  return {
    path,
    size: stats.size,
    mode: stats.mode & 0o7777,
    mtimeMs: stats.mtimeMs,
    sha256,
    chunks,
    dev: stats.dev,
    ino: stats.ino,
    ctimeMs: stats.ctimeMs,
  };
}

/** The latest snapshot's files of this very source, by `dev:ino`; empty when there is none or it is unreadable. */
async function previousFiles(
  repo: Repository,
  source: string,
  host: string,
  logger: Logger | undefined,
): Promise<Map<string, ManifestFile>> {
  const byInode = new Map<string, ManifestFile>();
  let latest: string | undefined;
  for await (const info of repo.listObjects(keys.summaryPrefix(repo.location.prefix))) {
    const id = info.key.slice(keys.summaryPrefix(repo.location.prefix).length);
    if (isSnapshotId(id) && (latest === undefined || id > latest)) latest = id;
  }
  if (latest === undefined) return byInode;
  try {
    const summary = await repo.summary(latest);
    if (summary.source !== source || summary.host !== host) return byInode;
    const manifest = await repo.manifest(summary);
    for (const file of manifest.files) byInode.set(`${file.dev}:${file.ino}`, file);
  } catch (error) {
    // Only an optimisation: every file is read again, and verify will report the damaged snapshot.
    logger?.warn('could not read the previous snapshot; reading every file again', { id: latest, error });
  }
  return byInode;
}

/** At most `limit` uploads at once; the first failure fails every later `add` and `drain`. */
class Uploader {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  async add(task: () => Promise<void>): Promise<void> {
    this.check();
    while (this.running.size >= this.limit) {
      await Promise.race(this.running);
      this.check();
    }
    const run: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  async drain(): Promise<void> {
    await this.settle();
    this.check();
  }

  /** Waits for what is running, whatever its outcome. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }
}
