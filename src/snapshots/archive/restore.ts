/**
 * `restore <id> --to DIR`: rebuilds the snapshotted tree in DIR: every directory and file, with its bytes,
 * permission bits and modification time (ownership is left to whoever restores; the spool needs none).
 *
 * Nothing half-written is ever left under a real name: each file is written under a temporary name beside
 * it, checked against its recorded size and SHA-256, then renamed into place. A missing, damaged or foreign
 * chunk stops the restore with an error naming the chunk and the file; files finished before it stay.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { SnapshotError, throwIfAborted } from '../errors.js';
import type { RestoreOptions, RestoreReport } from '../provider.js';
import type { ManifestDir, ManifestFile } from './manifest.js';
import type { Repository } from './repository.js';
import { fetchChunks, inlineBytes } from './verify.js';

export async function restoreArchiveSnapshot(
  repo: Repository,
  id: string,
  dir: string,
  options: RestoreOptions = {},
): Promise<RestoreReport> {
  const target = path.resolve(dir);
  await refuseNonEmpty(target, options.force === true);
  // Read and authenticate the manifest before anything is written.
  const summary = await repo.summary(id);
  const manifest = await repo.manifest(summary);

  await fs.mkdir(target, { recursive: true });
  // Owner-writable while filling; the recorded modes come last, so a read-only directory can be filled.
  for (const d of manifest.dirs) await fs.mkdir(join(target, d.path), { recursive: true, mode: 0o700 });
  for (const file of manifest.files)
    await fs.mkdir(path.dirname(join(target, file.path)), { recursive: true });

  const writer = new FileWriter(target);
  try {
    for await (const fetched of fetchChunks(repo, manifest.files)) {
      throwIfAborted(options.signal, `restore of snapshot ${id}`);
      const { file, index } = fetched;
      if (index === 0) await writer.begin(file);
      if (fetched.data === undefined) {
        const reason = fetched.error instanceof Error ? fetched.error.message : String(fetched.error);
        throw new SnapshotError(
          fetched.error instanceof SnapshotError ? fetched.error.code : 'restore_failed',
          `restore of snapshot ${id} stopped at ${file.path}: ${reason} Nothing half-written was left in ${target}.`,
          { cause: fetched.error },
        );
      }
      await writer.write(fetched.data);
      if (index === file.chunks.length - 1) await writer.commit();
    }
    for (const file of manifest.files) {
      if (file.chunks.length === 0) {
        throwIfAborted(options.signal, `restore of snapshot ${id}`);
        await writer.begin(file);
        await writer.write(inlineBytes(file));
        await writer.commit();
      }
    }
  } finally {
    await writer.abandon();
  }
  await applyDirectoryAttributes(target, manifest.dirs);
  return {
    id,
    dir: target,
    files: manifest.files.length,
    bytes: manifest.files.reduce((sum, f) => sum + f.size, 0),
  };
}

async function refuseNonEmpty(target: string, force: boolean): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR')
      throw new UsageError('restore_target_not_empty', `${target} is a file, not a directory.`);
    throw error;
  }
  if (names.length > 0 && !force) {
    throw new UsageError(
      'restore_target_not_empty',
      `${target} is not empty (${names.length} entr${names.length === 1 ? 'y' : 'ies'}): restore into a new or ` +
        'empty directory, or pass --force to write the snapshot over what is there.',
    );
  }
}

/** One file at a time: a temporary name, the checks, then the rename. */
class FileWriter {
  private current:
    | {
        file: ManifestFile;
        temp: string;
        handle: FileHandle;
        hash: ReturnType<typeof createHash>;
        size: number;
      }
    | undefined;

  constructor(private readonly root: string) {}

  async begin(file: ManifestFile): Promise<void> {
    const final = join(this.root, file.path);
    const temp = path.join(
      path.dirname(final),
      `.${path.basename(final)}.inlet-restore-${randomBytes(4).toString('hex')}`,
    );
    const handle = await fs.open(temp, 'wx', 0o600);
    this.current = { file, temp, handle, hash: createHash('sha256'), size: 0 };
  }

  async write(data: Buffer): Promise<void> {
    const current = this.current as NonNullable<FileWriter['current']>;
    current.hash.update(data);
    current.size += data.length;
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await current.handle.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
  }

  async commit(): Promise<void> {
    const current = this.current as NonNullable<FileWriter['current']>;
    const { file } = current;
    const digest = current.hash.digest('hex');
    if (current.size !== file.size || digest !== file.sha256) {
      throw new SnapshotError(
        'chunk_tampered',
        `${file.path} does not match the snapshot (${current.size} bytes, SHA-256 ${digest}; expected ${file.size} bytes, ${file.sha256}).`,
      );
    }
    await current.handle.chmod(file.mode);
    await current.handle.close();
    const final = join(this.root, file.path);
    await fs.utimes(current.temp, file.mtimeMs / 1000, file.mtimeMs / 1000);
    await fs.rename(current.temp, final);
    this.current = undefined;
  }

  /** Removes a file left unfinished by an error. */
  async abandon(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (current === undefined) return;
    await current.handle.close().catch(() => undefined);
    await fs.rm(current.temp, { force: true });
  }
}

/** Modes and times of directories, deepest first: filling a directory changes its mtime. */
async function applyDirectoryAttributes(target: string, dirs: readonly ManifestDir[]): Promise<void> {
  const ordered = [...dirs].sort((a, b) => depth(b.path) - depth(a.path));
  for (const d of ordered) {
    const abs = join(target, d.path);
    await fs.chmod(abs, d.mode);
    await fs.utimes(abs, d.mtimeMs / 1000, d.mtimeMs / 1000);
  }
}

function depth(rel: string): number {
  return rel === '' ? 0 : rel.split('/').length;
}

/** Manifest paths are checked when the manifest is parsed; this joins them the same way on every OS. */
function join(root: string, rel: string): string {
  return rel === '' ? root : path.join(root, ...rel.split('/'));
}
