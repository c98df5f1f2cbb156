import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chunker, type ChunkerParams } from '../../../src/snapshots/archive/chunker.js';
import { deriveKeys } from '../../../src/snapshots/archive/crypto.js';

const PARAMS: ChunkerParams = { min: 2048, avg: 8192, max: 32768 };
const gear = deriveKeys(Buffer.alloc(32, 7), Buffer.alloc(32, 1)).gear;
const chunker = new Chunker(gear, PARAMS);

function cutAll(data: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let start = 0; start < data.length; ) {
    const length = chunker.cut(data, start, data.length);
    chunks.push(data.subarray(start, start + length));
    start += length;
  }
  return chunks;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet-chunker-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Chunker', () => {
  const data = randomBytes(600_000);

  it('cuts between min and max, and the chunks add up to the input', () => {
    const chunks = cutAll(data);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.length).toBeGreaterThanOrEqual(PARAMS.min);
      expect(chunk.length).toBeLessThanOrEqual(PARAMS.max);
    }
    const mean = data.length / chunks.length;
    expect(mean).toBeGreaterThan(PARAMS.avg / 2);
    expect(mean).toBeLessThan(PARAMS.avg * 2);
  });

  it('is content-defined: an insertion changes only the chunks near it', () => {
    const before = cutAll(data).map((c) => c.toString('hex'));
    const edited = Buffer.concat([
      data.subarray(0, 300_000),
      Buffer.from('inserted bytes'),
      data.subarray(300_000),
    ]);
    const after = new Set(cutAll(edited).map((c) => c.toString('hex')));
    const kept = before.filter((c) => after.has(c)).length;
    expect(before.length - kept).toBeLessThanOrEqual(3);
  });

  it('reads a file into the very chunks that cutting the whole buffer gives', async () => {
    const file = join(dir, 'data');
    await writeFile(file, data);
    const handle = await open(file, 'r');
    try {
      const read: string[] = [];
      for await (const chunk of chunker.chunks(handle)) read.push(chunk.toString('hex'));
      expect(read).toEqual(cutAll(data).map((c) => c.toString('hex')));
    } finally {
      await handle.close();
    }
  });

  it('yields nothing for an empty file and one chunk for a small one', async () => {
    for (const [name, content, count] of [
      ['empty', Buffer.alloc(0), 0],
      ['small', Buffer.from('a,b\n1,2\n'), 1],
    ] as const) {
      const file = join(dir, name);
      await writeFile(file, content);
      const handle = await open(file, 'r');
      const chunks: Buffer[] = [];
      for await (const chunk of chunker.chunks(handle)) chunks.push(chunk);
      await handle.close();
      expect(chunks).toHaveLength(count);
    }
  });

  it('depends on the key: another key cuts elsewhere', () => {
    const other = new Chunker(deriveKeys(Buffer.alloc(32, 8), Buffer.alloc(32, 1)).gear, PARAMS);
    const mine = cutAll(data).map((c) => c.length);
    const theirs: number[] = [];
    for (let start = 0; start < data.length; ) {
      const length = other.cut(data, start, data.length);
      theirs.push(length);
      start += length;
    }
    expect(theirs).not.toEqual(mine);
  });

  it('refuses parameters that cannot work', () => {
    expect(() => new Chunker(gear, { min: 4096, avg: 3000, max: 8192 })).toThrow(/power of two/);
    expect(() => new Chunker(gear, { min: 8192, avg: 8192, max: 16384 })).toThrow(/min < avg/);
  });
});

describe('Chunker size hints', () => {
  it('cuts the same whatever the hint says', async () => {
    const data = randomBytes(100_000);
    const file = join(dir, 'hinted');
    await writeFile(file, data);
    const digest = (c: Buffer) => `${c.length}:${createHash('sha256').update(c).digest('hex').slice(0, 16)}`;
    const expected = cutAll(data).map(digest);
    for (const hint of [undefined, 0, 10, 99_999, 100_000, 100_001, 5_000_000]) {
      const handle = await open(file, 'r');
      const read: string[] = [];
      for await (const chunk of chunker.chunks(handle, hint)) read.push(digest(chunk));
      await handle.close();
      expect(read, `hint ${hint}`).toEqual(expected);
    }
  });
});
