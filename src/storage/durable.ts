import { randomUUID } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * What fsync of a directory answers where the platform or file system cannot sync directories at all,
 * as opposed to a sync that failed:
 * - EINVAL: Linux, on a file system with no fsync for directories (procfs and sysfs; some FUSE and
 *   network file systems);
 * - EBADF: systems that refuse fsync on a descriptor opened read-only, as a directory's must be
 *   (PostgreSQL lets these two through for directories, in fd.c's fsync_fname_ext);
 * - EPERM, on Windows only: libuv's fsync there is FlushFileBuffers, which a read-only directory
 *   handle may not call.
 * Not EISDIR: fsync(2) does not return it, and libuv opens directories on Windows too.
 */
const DIRECTORY_SYNC_UNSUPPORTED: ReadonlySet<string> = new Set([
  'EINVAL',
  'EBADF',
  ...(process.platform === 'win32' ? ['EPERM'] : []),
]);

/**
 * fsync a file or directory; a rename is only durable once its directory has been synced too. A directory
 * the platform cannot sync counts as synced (the files in it are); a file that cannot be synced throws,
 * since its bytes may not be on disk.
 */
export async function fsyncPath(target: string): Promise<void> {
  const handle = await fs.open(target, 'r');
  try {
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (!DIRECTORY_SYNC_UNSUPPORTED.has(code) || !(await handle.stat()).isDirectory()) throw error;
  } finally {
    await handle.close();
  }
}

/** Writes all of `bytes` at the handle's position: one write may take fewer bytes than it was given. */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

/**
 * Writes every buffer, in order, at the handle's position with as few system calls as the kernel allows
 * (one, for a small file): a write may take fewer bytes than it was given, so the rest is written again.
 */
export async function writevAll(handle: FileHandle, buffers: readonly Uint8Array[]): Promise<void> {
  let rest = buffers.filter((b) => b.byteLength > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest);
    const next: Uint8Array[] = [];
    for (const buffer of rest) {
      if (bytesWritten >= buffer.byteLength) {
        bytesWritten -= buffer.byteLength;
        continue;
      }
      next.push(bytesWritten === 0 ? buffer : buffer.subarray(bytesWritten));
      bytesWritten = 0;
    }
    rest = next;
  }
}

/** Moves a synced file into place atomically and makes the new directory entry durable. */
export async function durableRename(from: string, to: string): Promise<void> {
  await fs.rename(from, to);
  await fsyncPath(path.dirname(to));
}

/** Creates `file` with `data` and syncs it (`mode` as open(2) takes it, before the umask). */
export async function writeSynced(file: string, data: string | Uint8Array, mode = 0o666): Promise<void> {
  const handle = await fs.open(file, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** What link(2) answers on a file system that has no hard links (FAT, some network and FUSE file systems). */
const LINK_UNSUPPORTED: ReadonlySet<string> = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Creates `file` holding `data`, whole, unless the name exists: returns false then, and what is there stands
 * (another process made it first). `open(file, 'wx')` then a write would leave the name empty or cut short
 * where the process dies in between, and everyone after would find a damaged file (a host key the service
 * refuses to start with); here the data is written and synced under a temporary name beside it, then linked
 * to the name, which like O_EXCL fails where the name exists. A crash leaves no file at the name, or the
 * whole one (and, before the link, a `.partial` file beside it that no one reads). Where the file system
 * has no hard links, it falls back to `wx` and a write.
 */
export async function createFileOnce(
  file: string,
  data: string | Uint8Array,
  mode = 0o600,
): Promise<boolean> {
  const partial = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.partial`;
  try {
    await writeSynced(partial, data, mode);
    try {
      await fs.link(partial, file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') return false;
      if (!LINK_UNSUPPORTED.has(code)) throw error;
      return createWithoutLink(file, data, mode);
    }
  } finally {
    // Whatever happened, the temporary name goes (a write that failed half-way included).
    await fs.rm(partial, { force: true });
  }
  await fsyncPath(path.dirname(file));
  return true;
}

async function createWithoutLink(file: string, data: string | Uint8Array, mode: number): Promise<boolean> {
  try {
    await writeSynced(file, data, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  await fsyncPath(path.dirname(file));
  return true;
}

/** Writes `data` under a temporary name in `tmpDir`, syncs it, then renames it over `target`. */
export async function writeFileDurably(
  tmpDir: string,
  target: string,
  data: string | Uint8Array,
): Promise<void> {
  const tmp = path.join(tmpDir, `${randomUUID()}.tmp`);
  await writeSynced(tmp, data);
  try {
    await durableRename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

export async function removeDurably(target: string): Promise<boolean> {
  try {
    await fs.unlink(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  await fsyncPath(path.dirname(target));
  return true;
}

/** Serialises async critical sections (commits) so that their effects, and the events they fire, keep one order. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * Group commit for directory syncs: callers that arrive while a sync of the same directory runs share the next
 * one, so concurrent uploads pay for one fsync instead of queueing one each.
 */
export class DirectorySyncer {
  private readonly running = new Map<string, Promise<void>>();
  private readonly waiting = new Map<string, Promise<void>>();

  sync(dir: string): Promise<void> {
    const waiting = this.waiting.get(dir);
    if (waiting !== undefined) return waiting;
    const previous = this.running.get(dir) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => {
        this.waiting.delete(dir);
        const run = fsyncPath(dir);
        this.running.set(dir, run);
        return run;
      });
    this.waiting.set(dir, next);
    return next;
  }
}
