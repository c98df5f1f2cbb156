import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsyncPath, writeAll, writeSynced } from '../../../src/storage/durable.js';

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
