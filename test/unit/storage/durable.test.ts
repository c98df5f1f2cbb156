import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileOnce, fsyncPath, writeAll, writeSynced } from '../../../src/storage/durable.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet-durable-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fsyncPath', () => {
  it('syncs a file and the directory that holds it', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a.txt'), 'a');
    await expect(fsyncPath(join(dir, 'sub', 'a.txt'))).resolves.toBeUndefined();
    await expect(fsyncPath(join(dir, 'sub'))).resolves.toBeUndefined();
  });

  it('throws when the path does not exist', async () => {
    await expect(fsyncPath(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  // procfs has no fsync at all: Linux answers EINVAL for its directories and files alike, as some FUSE and
  // network file systems do for directories. A real file system, not a stub, gives the edge.
  describe.runIf(process.platform === 'linux')('on a file system that cannot sync (Linux /proc)', () => {
    it('counts a directory as synced: the files in it are, and the rename must not fail for it', async () => {
      const handle = await open('/proc', 'r');
      try {
        await expect(handle.sync()).rejects.toMatchObject({ code: 'EINVAL' });
      } finally {
        await handle.close();
      }
      await expect(fsyncPath('/proc')).resolves.toBeUndefined();
    });

    it('still throws for a file, whose bytes may not be on disk', async () => {
      await expect(fsyncPath('/proc/self/status')).rejects.toMatchObject({ code: 'EINVAL' });
    });
  });
});

describe('writeAll', () => {
  it('writes a view into a larger buffer from its own start, all of it', async () => {
    const backing = Buffer.from('xxxhello, worldyyy');
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 3, 12);
    const file = join(dir, 'view.txt');
    const handle = await open(file, 'wx');
    try {
      await writeAll(handle, view);
      await writeAll(handle, new Uint8Array(0));
      await writeAll(handle, Buffer.from('!'));
    } finally {
      await handle.close();
    }
    expect(await readFile(file, 'utf8')).toBe('hello, world!');
  });
});

describe('writeSynced', () => {
  it('creates the file and never replaces one', async () => {
    const file = join(dir, 'once.json');
    await writeSynced(file, '{"v":1}');
    await expect(writeSynced(file, '{"v":2}')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(file, 'utf8')).toBe('{"v":1}');
  });
});

describe('createFileOnce', () => {
  it('creates the file whole with its mode, once: a second call finds it and leaves it as it is', async () => {
    const sub = await mkdtemp(join(dir, 'once-'));
    const file = join(sub, 'host_key');
    expect(await createFileOnce(file, 'first\n', 0o600)).toBe(true);
    expect(await createFileOnce(file, 'second\n', 0o600)).toBe(false);
    expect(await readFile(file, 'utf8')).toBe('first\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // Neither call leaves its temporary file behind.
    expect(await readdir(sub)).toEqual(['host_key']);
  });

  it('of callers racing for one name, exactly one creates it, and the name holds what that one wrote', async () => {
    const sub = await mkdtemp(join(dir, 'race-'));
    const file = join(sub, 'token');
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => createFileOnce(file, `caller ${i}\n`)),
    );
    expect(created.filter(Boolean)).toHaveLength(1);
    expect(await readFile(file, 'utf8')).toBe(`caller ${created.indexOf(true)}\n`);
    expect(await readdir(sub)).toEqual(['token']);
  });
});
