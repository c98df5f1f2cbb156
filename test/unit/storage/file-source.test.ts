import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../../src/errors.js';
import { expandPaths, fileSource } from '../../../src/storage/file-source.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet file source '));
  await mkdir(join(dir, 'tree', 'b', 'deeper'), { recursive: true });
  await mkdir(join(dir, 'tree', '.git'), { recursive: true });
  for (const file of [
    'tree/z.csv',
    'tree/a.csv',
    'tree/b/deeper/c.csv',
    'tree/.DS_Store',
    'tree/.git/HEAD',
  ]) {
    await writeFile(join(dir, file), 'x\n');
  }
  await symlink(join(dir, 'tree'), join(dir, 'tree', 'b', 'loop'));
  await symlink(join(dir, 'tree', 'a.csv'), join(dir, 'tree', 'b', 'link.csv'));
  await writeFile(join(dir, 'data #1.csv'), 'id\n1\n');
  await utimes(join(dir, 'data #1.csv'), 1_700_000_000, 1_700_000_000.5);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fileSource', () => {
  it('describes a file by absolute file:// URI, name relative to cwd, size and mtime order', async () => {
    const path = join(dir, 'data #1.csv');
    const source = await fileSource(path);
    expect(source.uri).toBe(pathToFileURL(path).href);
    expect(source.uri).toContain('data%20%231.csv');
    expect(source.name).toBe(relative(process.cwd(), path));
    expect(source.size).toBe(5);
    expect(source.order).toBe('00000001700000000500');
  });

  it('streams the content, as often as asked', async () => {
    const source = await fileSource(join(dir, 'data #1.csv'));
    for (let i = 0; i < 2; i++) {
      const chunks: Buffer[] = [];
      for await (const chunk of await source.open()) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('id\n1\n');
    }
  });

  it('refuses a missing file with a SourceError naming it', async () => {
    const missing = join(dir, 'missing.csv');
    await expect(fileSource(missing)).rejects.toThrow(SourceError);
    await expect(fileSource(missing)).rejects.toMatchObject({
      code: 'source_not_found',
      message: `cannot read ${missing}: no such file`,
    });
  });

  it('refuses a directory', async () => {
    await expect(fileSource(dir)).rejects.toMatchObject({
      code: 'source_unreadable',
      message: expect.stringContaining('directory'),
    });
  });

  it('reports a file removed after it was described when it is opened', async () => {
    const path = join(dir, 'vanishing.csv');
    await writeFile(path, 'x');
    const source = await fileSource(path);
    await rm(path);
    await expect(source.open()).rejects.toThrow(SourceError);
  });
});

describe('expandPaths', () => {
  it('lists files under directories recursively, sorted, without dotfiles or directory links', async () => {
    const tree = join(dir, 'tree');
    expect(await expandPaths([tree])).toEqual([
      join(tree, 'a.csv'),
      join(tree, 'b', 'deeper', 'c.csv'),
      join(tree, 'b', 'link.csv'),
      join(tree, 'z.csv'),
    ]);
  });

  it('passes files and missing paths through in the order given', async () => {
    const file = join(dir, 'data #1.csv');
    expect(await expandPaths([file, 'nope.csv', join(dir, 'tree', '.DS_Store')])).toEqual([
      file,
      'nope.csv',
      join(dir, 'tree', '.DS_Store'),
    ]);
  });
});
