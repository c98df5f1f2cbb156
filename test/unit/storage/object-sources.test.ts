/**
 * Every source the engine reads by range (src/model/ingestion.ts's ObjectSource), one behaviour suite: a
 * local file (fileSource), an upload in the spool (uploadSource, read from its entry file, whose sidecar
 * follows the data, and from the bytes the accepting process still holds), and a stored object
 * (objectSource over the file store; the S3 store's ranged GET is held to the same rules by the object store
 * suite). `open()` gives the object's bytes and nothing after them; `openRange(start, end)` gives bytes
 * [start, end), an empty range none, and a range running past the end at most what the object has, for the
 * random access of src/formats/random-access.ts to refuse as truncated.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectSource } from '../../../src/model/ingestion.js';
import { entryTrailer } from '../../../src/server/spool-format.js';
import { uploadSource } from '../../../src/server/upload-source.js';
import { fileSource } from '../../../src/storage/file-source.js';
import { FileObjectStore } from '../../../src/storage/file-store.js';
import { objectSource } from '../../../src/storage/object-source.js';
import { seededBytes } from '../../harness/bad-inputs.js';
import { seededRandom } from '../../harness/seeded-random.js';

const SEED = 5209;
const OBJECT = seededBytes(200_000, SEED);
const SHA256 = 'not checked here';

let temp: string;
beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), 'inlet-object-sources-'));
});
afterAll(async () => {
  await rm(temp, { recursive: true, force: true });
});

/** The object as each kind of source holds it. */
const SOURCES: Record<string, (bytes: Buffer, name: string) => Promise<ObjectSource>> = {
  'a local file': async (bytes, name) => {
    const path = join(temp, name);
    await writeFile(path, bytes);
    return fileSource(path);
  },
  'an upload read from its spool entry (the sidecar after the data)': async (bytes, name) => {
    const path = join(temp, name);
    const sidecar = {
      name,
      size: bytes.length,
      sha256: SHA256,
      receivedAt: new Date().toISOString(),
      meta: {},
    };
    await writeFile(path, Buffer.concat([bytes, entryTrailer(sidecar)]));
    return uploadSource({
      id: name,
      name,
      size: bytes.length,
      sha256: SHA256,
      receivedAt: new Date(),
      path,
      meta: {},
    });
  },
  'an upload the accepting process still holds': async (bytes, name) =>
    uploadSource({
      id: name,
      name,
      size: bytes.length,
      sha256: SHA256,
      receivedAt: new Date(),
      path: join(temp, 'never read'),
      meta: {},
      content: bytes,
    }),
  'a stored object (file store)': async (bytes, name) => {
    const store = new FileObjectStore(join(temp, 'store'));
    await store.createBucket('inbox');
    const info = await store.put('inbox', name, bytes);
    return objectSource(store, 'inbox', name, info);
  },
};

async function all(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}

let serial = 0;

describe.each(Object.entries(SOURCES))('ObjectSource behaviour: %s', (_kind, make) => {
  const object = (bytes: Buffer) => make(bytes, `object-${++serial}.bin`);

  it('open() gives the object, byte for byte, and nothing after it', async () => {
    const source = await object(OBJECT);
    expect(source.size).toBe(OBJECT.length);
    expect((await all(await source.open())).equals(OBJECT)).toBe(true);
  });

  it('openRange() gives exactly the bytes asked for, anywhere in the object', async () => {
    const source = await object(OBJECT);
    const random = seededRandom(SEED);
    const ranges: [number, number][] = [
      [0, 1],
      [0, OBJECT.length],
      [OBJECT.length - 1, OBJECT.length],
      [OBJECT.length - 8, OBJECT.length],
    ];
    for (let i = 0; i < 30; i++) {
      const start = Math.floor(random() * OBJECT.length);
      ranges.push([start, Math.min(OBJECT.length, start + 1 + Math.floor(random() * 50_000))]);
    }
    for (const [start, end] of ranges) {
      const got = await all(await (source.openRange as NonNullable<ObjectSource['openRange']>)(start, end));
      expect(got.equals(OBJECT.subarray(start, end)), `bytes ${start}-${end}`).toBe(true);
    }
  });

  it('an empty range gives no bytes', async () => {
    const source = await object(OBJECT);
    for (const [start, end] of [
      [0, 0],
      [500, 500],
      [500, 400],
    ] as const) {
      const got = await all(await (source.openRange as NonNullable<ObjectSource['openRange']>)(start, end));
      expect(got.length, `bytes ${start}-${end}`).toBe(0);
    }
  });

  it('a range running past the end gives at most the bytes the object has, never others', async () => {
    const source = await object(OBJECT);
    const openRange = source.openRange as NonNullable<ObjectSource['openRange']>;
    const got = await all(await openRange(OBJECT.length - 10, OBJECT.length + 50)).catch(() => undefined);
    // Refusing is as good as giving what there is: the reader refuses a short range either way.
    if (got !== undefined) expect(got.equals(OBJECT.subarray(OBJECT.length - 10))).toBe(true);
  });

  it('an empty object opens to no bytes', async () => {
    const source = await object(Buffer.alloc(0));
    expect(source.size).toBe(0);
    expect((await all(await source.open())).length).toBe(0);
  });
});
