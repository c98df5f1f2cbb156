import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isTemporaryName,
  MAX_STAGED_FILES,
  StagedUploadError,
  StagedUploads,
} from '../../../src/server/sftp/staged-uploads.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'inlet-staged-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('isTemporaryName', () => {
  it.each([
    'orders.csv.filepart',
    'orders.csv.part',
    'orders.csv.PARTIAL',
    'orders.csv.tmp',
    'orders.temp',
    'orders.csv.upload',
    'orders.csv.uploading',
    '.orders.csv',
  ])('takes %j for a file still being written', (name) => {
    expect(isTemporaryName(name)).toBe(true);
  });
  it.each(['orders.csv', 'orders.parquet', 'tmp.csv', 'part-0001.csv', 'orders.csv.gz'])(
    'takes %j for a final name',
    (name) => {
      expect(isTemporaryName(name)).toBe(false);
    },
  );
});

describe('StagedUploads', () => {
  it('appends WRITEs sent at once in the order they came, each landing after the one before', async () => {
    const staging = new StagedUploads(dir, 1 << 20);
    const staged = await staging.open('orders', 'x.csv.filepart');
    const chunks = Array.from({ length: 40 }, (_, i) =>
      Buffer.from(`${String(i).padStart(4, '0')}\n`.repeat(50)),
    );
    // As the session does for an appending handle: the offset is the size when the request is taken.
    await Promise.all(chunks.map((chunk) => staging.write(staged, staged.size, chunk)));
    await staging.close(staged);
    expect(await readFile(staged.file)).toEqual(Buffer.concat(chunks));
    expect(staged.size).toBe(Buffer.concat(chunks).length);
  });

  it('drops a file opened again under its name without touching the new one', async () => {
    const staging = new StagedUploads(dir, 1 << 20);
    const first = await staging.open('orders', 'x.tmp');
    const second = await staging.open('orders', 'x.tmp');
    await expect(staging.write(first, 0, Buffer.from('a'))).rejects.toThrow(/closed/);
    await staging.drop(first);
    expect(staging.get('orders', 'x.tmp')).toBe(second);
    await staging.write(second, 0, Buffer.from('b'));
    await staging.close(second);
    expect(await readFile(second.file, 'utf8')).toBe('b');
  });

  it('refuses a write past the size limit', async () => {
    const staging = new StagedUploads(dir, 10);
    const staged = await staging.open('orders', 'x.tmp');
    await expect(staging.write(staged, 5, Buffer.alloc(6))).rejects.toThrow(/too_large/);
  });

  it(`holds at most ${MAX_STAGED_FILES} files a session, and deletes them all when it ends`, async () => {
    const staging = new StagedUploads(dir, 1 << 20);
    for (let i = 0; i < MAX_STAGED_FILES; i++) {
      await staging.close(await staging.open('orders', `f${i}.tmp`));
    }
    await expect(staging.open('orders', 'one-more.tmp')).rejects.toBeInstanceOf(StagedUploadError);
    // The same name again replaces its file rather than counting twice.
    await staging.close(await staging.open('orders', 'f0.tmp'));
    expect(await readdir(dir)).toHaveLength(MAX_STAGED_FILES);
    await staging.discardAll();
    expect(await readdir(dir)).toEqual([]);
  });

  it('publishes the bytes under the final name and deletes them, whether accepted or refused', async () => {
    const staging = new StagedUploads(dir, 1 << 20);
    const staged = await staging.open('orders', 'x.csv.part');
    await staging.write(staged, 0, Buffer.from('id\n1\n'));
    await expect(staging.publish(staged, async () => 'too soon')).rejects.toThrow(/still open/);
    await staging.close(staged);
    const read = async (body: AsyncIterable<Uint8Array>) => {
      const parts: Buffer[] = [];
      for await (const part of body) parts.push(Buffer.from(part));
      return Buffer.concat(parts).toString();
    };
    expect(await staging.publish(staged, read)).toBe('id\n1\n');
    expect(staging.get('orders', 'x.csv.part')).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);

    const refused = await staging.open('orders', 'y.csv.part');
    await staging.close(refused);
    await expect(
      staging.publish(refused, async () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await readdir(dir)).toEqual([]);
  });
});
