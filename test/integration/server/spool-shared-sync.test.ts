/**
 * Uploads arriving together share one fsync of `incoming/` (the spool's DirectorySyncer, PostgreSQL's group
 * commit applied to the directory): an upload is acknowledged only once the sync that follows its own rename
 * has succeeded. These tests inject a failure into that shared sync and check that every upload of the group
 * fails with a clear error and leaves nothing in the spool, none of them acknowledged, while an upload whose
 * own sync succeeded is kept.
 */
import fs, { type FileHandle, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Spool, type SpoolEntry, SpoolError } from '../../../src/server/spool.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'inlet-shared-sync-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(root, { recursive: true, force: true });
});

const UPLOADS = 20;

/**
 * Wraps fs.open so that each sync of `dir` goes through `onSync(n)` (n counts the directory's syncs from 1):
 * what it resolves to is what the sync answers, a rejection being a failed fsync.
 */
function interceptDirectorySyncs(dir: string, onSync: (n: number) => Promise<void>): { count: () => number } {
  const open = fs.open.bind(fs);
  let syncs = 0;
  vi.spyOn(fs, 'open').mockImplementation(async (...args: Parameters<typeof fs.open>) => {
    const handle: FileHandle = await open(...args);
    if (path.resolve(String(args[0])) !== dir || args[1] !== 'r') return handle;
    const sync = handle.sync.bind(handle);
    handle.sync = async () => {
      await onSync(++syncs);
      await sync();
    };
    return handle;
  });
  return { count: () => syncs };
}

function eio(): NodeJS.ErrnoException {
  return Object.assign(new Error('EIO: i/o error, fsync (injected)'), { code: 'EIO', errno: -5 });
}

async function until(done: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('the directory sync shared by uploads arriving together', () => {
  it('fails every upload of its group when it fails, acknowledging none and keeping none of them', async () => {
    const spool = new Spool(path.join(root, 'spool'), { minFreeBytes: 0 });
    await spool.open();
    const incoming = path.join(root, 'spool', 'incoming');
    const syncs = interceptDirectorySyncs(incoming, async (n) => {
      // The first sync covers the first upload alone; held until every other upload has renamed its file into
      // incoming/ and is waiting, so that all of them share the second, which fails.
      if (n === 1) {
        await until(async () => (await readdir(incoming)).length === UPLOADS, 'every upload to be renamed');
      }
      if (n === 2) throw eio();
    });

    const outcomes = await Promise.allSettled(
      Array.from({ length: UPLOADS }, (_, i) =>
        spool.accept(Readable.from([Buffer.from(`id,n\n${i},1\n`)]), { name: `f-${i}.csv`, maxBytes: 1024 }),
      ),
    );

    expect(syncs.count()).toBe(2);
    const kept = outcomes.filter((o): o is PromiseFulfilledResult<SpoolEntry> => o.status === 'fulfilled');
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    // One upload had the first sync to itself; the other nineteen shared the one that failed.
    expect(kept).toHaveLength(1);
    expect(failed).toHaveLength(UPLOADS - 1);
    for (const { reason } of failed) {
      expect(reason).toBeInstanceOf(SpoolError);
      expect((reason as SpoolError).code).toBe('io_failed');
      expect((reason as SpoolError).message).toMatch(/EIO/);
    }
    // Only the acknowledged upload is in the spool: the failed ones were taken out of incoming/ again.
    expect(await readdir(incoming)).toEqual([kept[0]?.value.id]);
    expect(await readdir(path.join(root, 'spool', 'tmp'))).toEqual([]);
  });

  it('acknowledges none of a group whose sync fails while more uploads keep arriving', async () => {
    const spool = new Spool(path.join(root, 'spool'), { minFreeBytes: 0 });
    await spool.open();
    const incoming = path.join(root, 'spool', 'incoming');
    let failing = true;
    interceptDirectorySyncs(incoming, async () => {
      if (failing) throw eio();
    });
    const accept = (i: number) =>
      spool.accept(Readable.from([Buffer.from(`id,n\n${i},1\n`)]), { name: `g-${i}.csv`, maxBytes: 1024 });

    const duringFault = await Promise.allSettled(Array.from({ length: UPLOADS }, (_, i) => accept(i)));
    expect(duringFault.every((o) => o.status === 'rejected')).toBe(true);
    expect(await readdir(incoming)).toEqual([]);

    // The disk answers again: the next uploads are kept, each in incoming/ when acknowledged.
    failing = false;
    const after = await Promise.all(Array.from({ length: 5 }, (_, i) => accept(UPLOADS + i)));
    expect((await readdir(incoming)).sort()).toEqual(after.map((entry) => entry.id).sort());
  });
});
