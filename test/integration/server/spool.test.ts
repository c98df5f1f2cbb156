import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSpoolId, newSpoolId, Spool, type SpoolEntry, SpoolError } from '../../../src/server/spool.js';
import { uploadSource } from '../../../src/server/upload-source.js';
import { damageSidecar, entryData, truncateEntry, writeDirectoryEntry } from '../../harness/spool-entries.js';

let root: string;

beforeEach(async () => {
  // The space checks that the spool never re-parses its own paths.
  root = await mkdtemp(path.join(tmpdir(), 'inlet spool '));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function openSpool(options: { minFreeBytes?: number } = {}): Promise<Spool> {
  const spool = new Spool(path.join(root, 'spool'), { minFreeBytes: 0, ...options });
  await spool.open();
  return spool;
}

async function* chunks(...parts: Array<Uint8Array | Error>): AsyncIterable<Uint8Array> {
  for (const part of parts) {
    await sleep(1);
    if (part instanceof Error) throw part;
    yield part;
  }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Every file and directory under one state directory, as relative paths. */
async function leftovers(state: string): Promise<string[]> {
  return readdir(path.join(root, 'spool', state), { recursive: true });
}

async function expectSpoolError(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SpoolError);
  expect((error as SpoolError).code).toBe(code);
}

describe('Spool', () => {
  it('accepts, claims and finishes an entry with identical bytes and the right hash', async () => {
    const spool = await openSpool();
    // Above the space-check interval, so the guard runs mid-stream too.
    const body = randomBytes(9 * 1024 * 1024 + 17);
    const accepted = await spool.accept(Readable.from([body.subarray(0, 1000), body.subarray(1000)]), {
      name: 'orders.csv',
      maxBytes: body.length,
      meta: { pipeline: 'orders' },
    });
    expect(isSpoolId(accepted.id)).toBe(true);
    expect(accepted).toMatchObject({ name: 'orders.csv', size: body.length, sha256: sha256(body) });
    expect(accepted.meta).toEqual({ pipeline: 'orders' });
    expect(await spool.depth()).toEqual({ incoming: 1, processing: 0, done: 0, failed: 0 });

    const claimed = await spool.claim();
    expect(claimed).toMatchObject({ id: accepted.id, name: 'orders.csv', sha256: sha256(body) });
    expect(claimed?.receivedAt.getTime()).toBe(accepted.receivedAt.getTime());
    expect(Buffer.compare(await entryData(claimed!), body)).toBe(0);
    // Too large to be held in memory: the worker reads the file, and only the data.
    expect(claimed?.content).toBeUndefined();
    const read: Buffer[] = [];
    for await (const chunk of await uploadSource(claimed!).open()) read.push(chunk as Buffer);
    expect(Buffer.compare(Buffer.concat(read), body)).toBe(0);
    expect(await spool.claim()).toBeUndefined();

    await spool.finish(claimed!, 'done');
    expect(await spool.depth()).toEqual({ incoming: 0, processing: 0, done: 1, failed: 0 });
    await expectSpoolError(spool.finish(claimed!, 'failed'), 'not_processing');
    expect(await leftovers('tmp')).toEqual([]);
  });

  it('leaves nothing behind when the body stream fails halfway', async () => {
    const spool = await openSpool();
    const body = chunks(randomBytes(1000), randomBytes(1000), new Error('client went away'));
    await expectSpoolError(spool.accept(body, { name: 'a.csv', maxBytes: 1e6 }), 'body_failed');
    expect(await leftovers('tmp')).toEqual([]);
    expect(await leftovers('incoming')).toEqual([]);
  });

  it('refuses one byte over maxBytes and leaves nothing behind', async () => {
    const spool = await openSpool();
    const exact = await spool.accept(chunks(randomBytes(60), randomBytes(40)), { name: 'a', maxBytes: 100 });
    expect(exact.size).toBe(100);
    await expectSpoolError(
      spool.accept(chunks(randomBytes(60), randomBytes(41)), { name: 'b', maxBytes: 100 }),
      'too_large',
    );
    expect(await leftovers('tmp')).toEqual([]);
    expect(await spool.depth()).toMatchObject({ incoming: 1 });
  });

  it('stops reading as soon as the limit is crossed', async () => {
    const spool = await openSpool();
    let pulled = 0;
    async function* endless(): AsyncIterable<Uint8Array> {
      for (;;) {
        pulled += 1;
        yield new Uint8Array(1024);
      }
    }
    await expectSpoolError(spool.accept(endless(), { name: 'x', maxBytes: 10 * 1024 }), 'too_large');
    expect(pulled).toBe(11);
  });

  it('refuses uploads with spool_full when free space is below minFreeBytes', async () => {
    const spool = await openSpool({ minFreeBytes: Number.MAX_SAFE_INTEGER });
    await expectSpoolError(
      spool.accept(chunks(randomBytes(100)), { name: 'a', maxBytes: 1e6 }),
      'spool_full',
    );
    expect(await leftovers('tmp')).toEqual([]);
    expect(await leftovers('incoming')).toEqual([]);
  });

  it.each([
    '../../../etc/passwd',
    '..%2f..%2fescape',
    'nul\u0000byte.csv',
    'x'.repeat(300),
    'CON',
    'aux.csv',
    '/absolute/path.csv',
    'back\\slash',
  ])('stores the client name %j only in the sidecar', async (name) => {
    const spool = await openSpool();
    const entry = await spool.accept(chunks(Buffer.from('a,b\n')), {
      name,
      maxBytes: 100,
      meta: { original: name },
    });
    expect(entry.name).toBe(name);
    expect(entry.meta.original).toBe(name);
    const spoolDir = path.join(root, 'spool');
    expect(path.relative(spoolDir, entry.path)).toBe(path.join('incoming', entry.id));
    expect(await leftovers('incoming')).toEqual([entry.id]);
    expect(await readdir(root)).toEqual(['spool']);

    const claimed = await spool.claim();
    expect(claimed?.name).toBe(name);
    expect(claimed?.meta).toEqual({ original: name });
  });

  it('hands a deep queue out in batches: oldest first, a share each, skipped entries left for later', async () => {
    const spool = await openSpool();
    const accepted: SpoolEntry[] = [];
    for (let i = 0; i < 9; i++) {
      accepted.push(await spool.accept(chunks(Buffer.from(`file ${i}\n`)), { name: `f${i}`, maxBytes: 100 }));
    }
    const ids = accepted.map((e) => e.id);
    const skipped = ids[2] as string;
    // Of 9 queued, a worker of two takes the first and half of the other 8 (skipping one), at most 32.
    const first = await spool.claimMany(32, { share: 2, skip: (id) => id === skipped });
    expect(first.map((e) => e.id)).toEqual([ids[0], ids[1], ids[3], ids[4], ids[5]]);
    const second = await spool.claimMany(2, { share: 2 });
    expect(second.map((e) => e.id)).toEqual([skipped, ids[6]]);
    const rest = await spool.claimMany(32);
    expect(rest.map((e) => e.id)).toEqual([ids[7], ids[8]]);
    expect(await spool.claimMany(32)).toEqual([]);
    expect(await spool.depth()).toEqual({ incoming: 0, processing: 9, done: 0, failed: 0 });
  });

  it('gives each of 50 entries to exactly one of 20 concurrent claimers, across two instances', async () => {
    // Accepted by a third instance: a claimer that accepted the entries itself would not read their
    // sidecars back, and would win every rename before the other had listed the directory.
    const accepting = await openSpool();
    const first = new Spool(path.join(root, 'spool'), { minFreeBytes: 0 });
    const second = new Spool(path.join(root, 'spool'), { minFreeBytes: 0 });
    const accepted: SpoolEntry[] = [];
    for (let i = 0; i < 50; i++) {
      accepted.push(
        await accepting.accept(chunks(Buffer.from(`file ${i}\n`)), { name: `f${i}`, maxBytes: 100 }),
      );
    }

    const claimedBy = async (spool: Spool): Promise<string[]> => {
      const ids: string[] = [];
      for (let entry = await spool.claim(); entry !== undefined; entry = await spool.claim())
        ids.push(entry.id);
      return ids;
    };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => claimedBy(i % 2 === 0 ? first : second)),
    );
    const all = results.flat();
    expect(all.sort()).toEqual(accepted.map((e) => e.id).sort());
    expect(new Set(all).size).toBe(50);
    // Both instances must have won some renames, or the test proved nothing about two processes.
    expect(results.filter((_, i) => i % 2 === 1).flat().length).toBeGreaterThan(0);
    expect(results.filter((_, i) => i % 2 === 0).flat().length).toBeGreaterThan(0);
    expect(await first.depth()).toEqual({ incoming: 0, processing: 50, done: 0, failed: 0 });
  });

  it('claims the oldest entry first', async () => {
    const spool = await openSpool();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await spool.accept(chunks(Buffer.from('x')), { name: `${i}`, maxBytes: 1 })).id);
    for (const id of ids) expect((await spool.claim())?.id).toBe(id);
  });

  it('resumes processing entries and clears staging leftovers after a crash', async () => {
    const before = await openSpool();
    const a = await before.accept(chunks(Buffer.from('a')), { name: 'a', maxBytes: 10 });
    await before.accept(chunks(Buffer.from('b')), { name: 'b', maxBytes: 10 });
    const c = await before.accept(chunks(Buffer.from('c')), { name: 'c', maxBytes: 10 });
    await before.claim();
    await before.claim();
    const tmp = path.join(root, 'spool', 'tmp');
    await writeFile(path.join(tmp, '1700000000000-000000aaaaaaaaaaaa.part'), 'half an upload');
    await mkdir(path.join(tmp, '1700000000000-000001bbbbbbbbbbbb'));
    await writeFile(path.join(tmp, '1700000000000-000001bbbbbbbbbbbb', 'data'), 'half');

    const after = new Spool(path.join(root, 'spool'), { minFreeBytes: 0 });
    const resumed = await after.open();
    expect(resumed.map((e) => e.name)).toEqual(['a', 'b']);
    expect(resumed[0]?.id).toBe(a.id);
    expect((await entryData(resumed[0]!)).toString()).toBe('a');
    expect(await leftovers('tmp')).toEqual([]);
    expect((await after.claim())?.id).toBe(c.id);
    for (const entry of resumed) await after.finish(entry, 'failed');
    expect(await after.depth()).toEqual({ incoming: 0, processing: 1, done: 0, failed: 2 });
  });

  it('claims an entry it accepted from the sidecar it wrote; another instance reads it from disk', async () => {
    const spool = await openSpool();
    const first = await spool.accept(chunks(Buffer.from('a')), {
      name: 'a.csv',
      maxBytes: 10,
      meta: { p: '1' },
    });
    const second = await spool.accept(chunks(Buffer.from('b')), { name: 'b.csv', maxBytes: 10 });
    // Both sidecars damaged on disk: the accepting instance does not read them back, a fresh one must.
    for (const { id } of [first, second]) {
      await damageSidecar(path.join(root, 'spool', 'incoming', id), '{"name":');
    }
    const claimed = await spool.claim();
    // The body too, held since it was accepted: the worker reads neither back.
    expect(claimed).toEqual({
      ...first,
      path: path.join(root, 'spool', 'processing', first.id),
      content: Buffer.from('a'),
    });
    expect((await entryData(claimed!)).toString()).toBe('a');
    const other = new Spool(path.join(root, 'spool'), { minFreeBytes: 0 });
    expect(await other.claim()).toBeUndefined();
    expect(await other.depth()).toEqual({ incoming: 0, processing: 1, done: 0, failed: 1 });
  });

  it('moves an entry with a broken sidecar to failed instead of resuming it forever', async () => {
    const spool = await openSpool();
    const entry = await spool.accept(chunks(Buffer.from('a')), { name: 'a', maxBytes: 10 });
    await spool.claim();
    await damageSidecar(path.join(root, 'spool', 'processing', entry.id), '{"name":');
    expect(await new Spool(path.join(root, 'spool')).open()).toEqual([]);
    expect(await spool.depth()).toEqual({ incoming: 0, processing: 0, done: 0, failed: 1 });
  });

  it.each([
    ['cut inside its footer', (file: string, size: number) => truncateEntry(file, size + 5)],
    ['cut to its data alone', (file: string, size: number) => truncateEntry(file, size)],
    [
      'a sidecar whose size is not the data it follows',
      (file: string) =>
        damageSidecar(
          file,
          JSON.stringify({
            name: 'a',
            size: 99,
            sha256: 'x',
            receivedAt: new Date().toISOString(),
            meta: {},
          }),
        ),
    ],
  ] as const)('refuses an entry file %s as bad_entry, and moves it to failed', async (_, damage) => {
    const writer = await openSpool();
    const entry = await writer.accept(chunks(Buffer.from('a,b\n1,2\n')), { name: 'a.csv', maxBytes: 100 });
    await damage(entry.path, entry.size);
    const reader = new Spool(path.join(root, 'spool'), { minFreeBytes: 0 });
    expect(await reader.read('incoming', entry.id)).toBeUndefined();
    expect(await reader.claim()).toBeUndefined();
    expect(await reader.locate(entry.id)).toBe('failed');
  });

  it('finds an entry that a worker claims and finishes between the look and the read', async () => {
    const spool = await openSpool();
    const entry = await spool.accept(chunks(Buffer.from('a,b\n1,2\n')), { name: 'a.csv', maxBytes: 100 });
    const worker = new Spool(path.join(root, 'spool'), { minFreeBytes: 0 });
    // Each read first lets the worker take the entry one state further, as a drain thread does meanwhile.
    const read = spool.read.bind(spool);
    const steps = [
      async () => {
        await worker.claim();
      },
      async () => {
        await worker.finish(entry, 'done');
      },
    ];
    spool.read = async (state, id) => {
      await steps.shift()?.();
      return read(state, id);
    };
    const found = await spool.find(entry.id);
    expect(found?.state).toBe('done');
    expect(found?.entry).toMatchObject({ id: entry.id, name: 'a.csv', size: entry.size });
    expect(await spool.find(newSpoolId())).toBeUndefined();
  });

  it('reads, resumes, claims, moves and prunes entries in the directory layout of earlier versions', async () => {
    const spoolDir = path.join(root, 'spool');
    await openSpool();
    const old = (name: string, receivedAt = new Date()) => ({
      id: newSpoolId(),
      name,
      data: Buffer.from(`id\n${name}\n`),
      meta: { pipeline: 'orders' },
      receivedAt,
    });
    const waiting = old('waiting');
    const resumedOne = old('resumed');
    const loadedLongAgo = old('done', new Date(Date.now() - 3_600_000));
    await writeDirectoryEntry(spoolDir, 'incoming', waiting);
    await writeDirectoryEntry(spoolDir, 'processing', resumedOne);
    await writeDirectoryEntry(spoolDir, 'done', loadedLongAgo);

    // An upgraded server: its own entries are files, the earlier ones directories, side by side.
    const spool = new Spool(spoolDir, { minFreeBytes: 0 });
    const resumed = await spool.open();
    expect(resumed).toEqual([
      expect.objectContaining({
        id: resumedOne.id,
        name: 'resumed',
        size: resumedOne.data.length,
        meta: { pipeline: 'orders' },
        path: path.join(spoolDir, 'processing', resumedOne.id, 'data'),
      }),
    ]);
    await spool.release(resumed[0]!);
    const fresh = await spool.accept(chunks(Buffer.from('id\nnew\n')), { name: 'new', maxBytes: 100 });

    const claimed: SpoolEntry[] = [];
    for (let entry = await spool.claim(); entry !== undefined; entry = await spool.claim())
      claimed.push(entry);
    expect(claimed.map((e) => e.id)).toEqual([waiting.id, resumedOne.id, fresh.id]);
    for (const [entry, data] of [
      [claimed[0]!, waiting.data],
      [claimed[1]!, resumedOne.data],
      [claimed[2]!, Buffer.from('id\nnew\n')],
    ] as const) {
      const read: Buffer[] = [];
      for await (const chunk of await uploadSource(entry).open()) read.push(chunk as Buffer);
      expect(Buffer.concat(read).toString()).toBe(data.toString());
      expect(entry.sha256).toBe(sha256(data));
      await spool.finish(entry, 'done');
    }
    expect((await readdir(path.join(spoolDir, 'done', waiting.id))).sort()).toEqual(['data', 'meta.json']);
    expect(await spool.read('done', waiting.id)).toMatchObject({
      name: 'waiting',
      size: waiting.data.length,
    });
    // Retention reads the earlier layout's receivedAt too.
    expect(await spool.prune({ maxAgeMs: 60_000 })).toBe(1);
    expect(await spool.locate(loadedLongAgo.id)).toBeUndefined();
    expect(await spool.depth()).toEqual({ incoming: 0, processing: 0, done: 3, failed: 0 });
    expect(await spool.prune({ keepCount: 0 })).toBe(3);
    expect(await readdir(path.join(spoolDir, 'done'))).toEqual([]);
  });

  it('prunes done entries by age and by count, never failed ones', async () => {
    const spool = await openSpool();
    const finishOne = async (outcome: 'done' | 'failed') => {
      await spool.accept(chunks(Buffer.from('x')), { name: 'x', maxBytes: 1 });
      await spool.finish((await spool.claim())!, outcome);
    };
    for (let i = 0; i < 3; i++) await finishOne('done');
    await finishOne('failed');
    await sleep(100);
    const boundary = Date.now();
    for (let i = 0; i < 4; i++) await finishOne('done');

    expect(await spool.prune({})).toBe(0);
    // Halfway into the gap, however long the newer entries took to write.
    expect(await spool.prune({ maxAgeMs: Date.now() - boundary + 50 })).toBe(3);
    expect(await spool.depth()).toEqual({ incoming: 0, processing: 0, done: 4, failed: 1 });
    expect(await spool.prune({ keepCount: 1 })).toBe(3);
    expect(await spool.depth()).toEqual({ incoming: 0, processing: 0, done: 1, failed: 1 });
    expect(await spool.prune({ keepCount: 5, maxAgeMs: 60_000 })).toBe(0);
  });

  it('refuses to finish an entry whose id is not a spool id', async () => {
    const spool = await openSpool();
    const forged = {
      id: '../../etc',
      name: 'x',
      size: 0,
      sha256: '',
      receivedAt: new Date(),
      path: '',
      meta: {},
    };
    await expectSpoolError(spool.finish(forged, 'done'), 'bad_entry');
  });
});
