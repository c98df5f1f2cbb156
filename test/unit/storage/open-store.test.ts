import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { FileObjectStore } from '../../../src/storage/file-store.js';
import { openStore, parseFolderUri, parseObjectUri, uriScheme } from '../../../src/storage/open-store.js';

describe('parseObjectUri', () => {
  it.each([
    ['s3://inbox/data.csv', { scheme: 's3', bucket: 'inbox', key: 'data.csv' }],
    ['s3://inbox/a/b/c.csv', { scheme: 's3', bucket: 'inbox', key: 'a/b/c.csv' }],
    // An S3 URI carries the raw key: nothing is decoded.
    [
      's3://inbox/with space+plus%20pct.csv',
      { scheme: 's3', bucket: 'inbox', key: 'with space+plus%20pct.csv' },
    ],
    ['s3://my.bucket-1/k', { scheme: 's3', bucket: 'my.bucket-1', key: 'k' }],
    ['s3://inbox/dir/', { scheme: 's3', bucket: 'inbox', key: 'dir/' }],
    ['file:///data/in/x.csv', { scheme: 'file', bucket: '/data/in', key: 'x.csv' }],
    // File URLs are percent-encoded, so their paths are decoded.
    ['file:///data/in/a%20b%2Bc.csv', { scheme: 'file', bucket: '/data/in', key: 'a b+c.csv' }],
    ['file:///x.csv', { scheme: 'file', bucket: '/', key: 'x.csv' }],
    ['file://localhost/data/x.csv', { scheme: 'file', bucket: '/data', key: 'x.csv' }],
  ])('parses %s', (uri, expected) => {
    expect(parseObjectUri(uri)).toEqual(expected);
  });

  it.each([
    ['s3://', 'bucket name is missing'],
    ['s3:///key', 'bucket name is missing'],
    ['s3://inbox', 'names a bucket, not an object'],
    ['s3://inbox/', 'names a bucket, not an object'],
    ['s3:inbox/key', 's3://'],
    ['s3://in box/key', 'not a bucket name'],
    ['file:relative.csv', 'absolute'],
    ['file:///data/dir/', 'directory'],
    ['file://otherhost/data/x.csv', 'file://'],
    ['https://bucket.s3.amazonaws.com/key', 'not supported'],
    ['/data/in/x.csv', 'no scheme'],
    ['data.csv', 'no scheme'],
  ])('refuses %s with a UsageError saying why', (uri, reason) => {
    const error = (() => {
      try {
        parseObjectUri(uri);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('invalid_uri');
    expect((error as Error).message).toContain(reason);
    expect((error as Error).message).toContain('s3://bucket/key');
  });
});

describe('openStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'inlet-open-store-'));
    await writeFile(path.join(dir, 'a b.csv'), 'id\n1\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('opens a file:// object in a store rooted at /, the directory as bucket', async () => {
    const uri = pathToFileURL(path.join(dir, 'a b.csv')).href;
    const opened = openStore(uri, { s3: () => expect.unreachable('a file URI asked for the S3 store') });
    expect(opened.store).toBeInstanceOf(FileObjectStore);
    expect(opened).toMatchObject({ bucket: dir, key: 'a b.csv' });
    expect(await opened.store.head(opened.bucket, opened.key)).toMatchObject({ size: 5 });
  });

  it('hands an s3:// object to the S3 store it is given, key verbatim', () => {
    const s3 = new FileObjectStore(dir);
    const opened = openStore('s3://inbox/in/a%20b.csv', { s3: () => s3 });
    expect(opened.store).toBe(s3);
    expect(opened).toMatchObject({ bucket: 'inbox', key: 'in/a%20b.csv' });
  });

  it('refuses what parseObjectUri refuses, before asking for a store', () => {
    const s3 = () => expect.unreachable('an invalid URI asked for the S3 store');
    expect(() => openStore('s3://inbox', { s3 })).toThrow(UsageError);
    expect(() => openStore('gs://inbox/key', { s3 })).toThrow(/scheme "gs:" is not supported/);
  });
});

describe('parseFolderUri', () => {
  it.each([
    ['s3://backups', { scheme: 's3', bucket: 'backups', prefix: '' }],
    ['s3://backups/', { scheme: 's3', bucket: 'backups', prefix: '' }],
    ['  S3://backups//inlet/spool//  ', { scheme: 's3', bucket: 'backups', prefix: 'inlet/spool/' }],
    ['file:///srv/snapshots', { scheme: 'file', dir: '/srv/snapshots' }],
    ['file:///srv/with%20space', { scheme: 'file', dir: '/srv/with space' }],
    ['/srv/snapshots', { scheme: 'file', dir: '/srv/snapshots' }],
    ['snapshots', { scheme: 'file', dir: path.resolve('snapshots') }],
  ])('reads %s', (uri, expected) => {
    expect(parseFolderUri(uri)).toEqual(expected);
  });

  it.each([
    ['s3://', 'it names no bucket'],
    ['s3://in box', 'it names no bucket'],
    ['s3://bucket/a/../b', 'the prefix has a "." or ".." segment'],
    ['s3://bucket/./b', 'the prefix has a "." or ".." segment'],
    ['file://relative/dir', 'file:///abs/dir'],
    ['gs://bucket', 'the scheme "gs:" is not supported'],
  ])('says why it cannot use %s', (uri, problem) => {
    const parsed = parseFolderUri(uri);
    expect(parsed).toHaveProperty('problem');
    expect((parsed as { problem: string }).problem).toContain(problem);
  });
});

describe('uriScheme', () => {
  it.each([
    ['s3://b/k', 's3'],
    ['FILE:///x', 'file'],
    ['https://example.com', 'https'],
    ['/abs/path', undefined],
    ['relative/path.csv', undefined],
  ])('%s → %s', (uri, scheme) => {
    expect(uriScheme(uri)).toBe(scheme);
  });
});
