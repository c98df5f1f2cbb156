import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../../src/errors.js';
import { ObjectNotFoundError } from '../../../src/storage/errors.js';
import { FileObjectStore } from '../../../src/storage/file-store.js';
import { objectSource } from '../../../src/storage/object-source.js';
import { openStore } from '../../../src/storage/open-store.js';
import { objectStoreSuite } from './object-store-suite.js';

objectStoreSuite('FileObjectStore', async () => {
  const root = await mkdtemp(join(tmpdir(), 'inlet file store '));
  const store = new FileObjectStore(root);
  await store.createBucket('suite');
  return { store, bucket: 'suite', teardown: () => rm(root, { recursive: true, force: true }) };
});

describe('FileObjectStore specifics', () => {
  let root: string;
  let store: FileObjectStore;

  beforeAll(async () => {
    // The space in the name checks that paths are never split or re-parsed as URLs.
    root = await mkdtemp(join(tmpdir(), 'inlet file store '));
    store = new FileObjectStore(join(root, 'store'));
    await store.createBucket('b');
    await writeFile(join(root, 'secret.txt'), 'outside the store');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each([
    '../secret.txt',
    '../../secret.txt',
    'a/../../secret.txt',
    'a/./b',
    './a',
    '/etc/passwd',
    'a\0b',
    '',
    'a//b',
    'dir/',
  ])('refuses the key %j before touching the disk', async (key) => {
    for (const attempt of [
      () => store.get('b', key),
      () => store.head('b', key),
      () => store.put('b', key, 'x'),
      () => store.delete('b', key),
      () => store.tag('b', key, { a: 'b' }),
      () => store.copy('b', 'anything', key),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'invalid_key' });
    }
    expect(await readFile(join(root, 'secret.txt'), 'utf8')).toBe('outside the store');
  });

  it.each(['..', '../b', 'b/../..', '.inlet-meta', '.inlet-tmp', '', '/'])(
    'refuses the bucket %j',
    async (bucket) => {
      await expect(store.put(bucket, 'k', 'x')).rejects.toMatchObject({ code: 'invalid_key' });
      await expect(store.list(bucket)).rejects.toMatchObject({ code: 'invalid_key' });
    },
  );

  it('leaves no visible object, and no temp file, when the body fails halfway', async () => {
    const key = 'crash/half.csv';
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(1024 * 1024, 'a');
        throw new Error('client went away');
      })(),
    );
    const error = await store.put('b', key, failing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toContain('client went away');
    expect(await store.head('b', key)).toBeUndefined();
    await expect(store.get('b', key)).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect((await store.list('b', { prefix: 'crash/' })).objects).toEqual([]);
    expect(await readdir(join(root, 'store', '.inlet-tmp'))).toEqual([]);
  });

  it('keeps the previous object intact when a replacing put fails', async () => {
    const key = 'crash/kept.csv';
    const first = await store.put('b', key, 'old content');
    const failing = Readable.from(
      (async function* () {
        yield Buffer.from('new content that never completes');
        throw new Error('disk pulled');
      })(),
    );
    await expect(store.put('b', key, failing)).rejects.toThrow('disk pulled');
    const { body, info } = await store.get('b', key);
    expect(await text(body)).toBe('old content');
    expect(info.etag).toBe(first.etag);
  });

  it('never lets a reader see a put in progress', async () => {
    const key = 'slow/object.csv';
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const body = Readable.from(
      (async function* () {
        yield Buffer.from('part one,');
        await gate;
        yield Buffer.from('part two');
      })(),
    );
    const putting = store.put('b', key, body);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await store.head('b', key)).toBeUndefined();
    expect((await store.list('b', { prefix: 'slow/' })).objects).toEqual([]);
    release();
    await putting;
    const { body: read } = await store.get('b', key);
    expect(await text(read)).toBe('part one,part two');
  });

  it('serves files placed in the bucket directory by hand, hashing them for the etag', async () => {
    await mkdir(join(root, 'store', 'b', 'manual'), { recursive: true });
    await writeFile(join(root, 'store', 'b', 'manual', 'dropped.csv'), 'id\n7\n');
    const head = await store.head('b', 'manual/dropped.csv');
    expect(head).toMatchObject({ size: 5, etag: md5('id\n7\n') });
    const page = await store.list('b', { prefix: 'manual/' });
    expect(page.objects.map((o) => o.key)).toEqual(['manual/dropped.csv']);
  });

  it('recomputes the etag of an object edited in place instead of trusting the sidecar', async () => {
    await store.put('b', 'edited.csv', 'before', { contentType: 'text/csv' });
    await writeFile(join(root, 'store', 'b', 'edited.csv'), 'after, and longer');
    expect(await store.head('b', 'edited.csv')).toMatchObject({ size: 17, etag: md5('after, and longer') });
  });

  it('refuses a key that would need a file and a directory of the same name', async () => {
    await store.put('b', 'conflict', 'file');
    await expect(store.put('b', 'conflict/child', 'x')).rejects.toMatchObject({ code: 'key_conflict' });
    await store.put('b', 'dir-conflict/child', 'x');
    await expect(store.put('b', 'dir-conflict', 'x')).rejects.toMatchObject({ code: 'key_conflict' });
    expect(await store.head('b', 'dir-conflict')).toBeUndefined();
    // A directory is a key prefix, not an object: deleting it is a no-op, as for any missing key.
    await store.delete('b', 'dir-conflict');
    expect(await store.head('b', 'dir-conflict/child')).toBeDefined();
  });

  it('removes directories emptied by delete, so they do not linger as clutter', async () => {
    await store.put('b', 'prune/one/two/three.csv', 'x');
    await store.delete('b', 'prune/one/two/three.csv');
    expect(await readdir(join(root, 'store', 'b'))).not.toContain('prune');
  });

  it('refuses version ids, which a directory cannot hold', async () => {
    await store.put('b', 'versioned.csv', 'x');
    await expect(store.get('b', 'versioned.csv', { versionId: 'v1' })).rejects.toThrow('versions');
  });

  it('reads a file:// URI through the store openStore gives it, with the same identity as the file', async () => {
    const path = join(root, 'store', 'b', 'with space.csv');
    await writeFile(path, 'a\n');
    const uri = new URL(`file://${path}`).href;
    const { store: rootStore, bucket, key } = openStore(uri, { s3: () => expect.unreachable() });
    expect(rootStore).toBeInstanceOf(FileObjectStore);
    const info = await rootStore.head(bucket, key);
    expect(info).toMatchObject({ size: 2, etag: md5('a\n') });
    const source = objectSource(rootStore, bucket, key, info);
    expect(source.uri).toBe(uri);
    expect(await text(await source.open())).toBe('a\n');
  });
});

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

async function text(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
