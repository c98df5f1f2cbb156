import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** fsync a file or directory; a rename is only durable once its directory has been synced too. */
export async function fsyncPath(target: string): Promise<void> {
  const handle = await fs.open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Moves a synced file into place atomically and makes the new directory entry durable. */
export async function durableRename(from: string, to: string): Promise<void> {
  await fs.rename(from, to);
  await fsyncPath(path.dirname(to));
}

/** Creates `file` with `data` and syncs it. */
export async function writeSynced(file: string, data: string | Uint8Array): Promise<void> {
  const handle = await fs.open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
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
