/**
 * The behaviour every ObjectStore adapter must share, registered as vitest blocks by each adapter's
 * test file. It describes S3's semantics (ordering, pagination, delimiter, etags, idempotent delete)
 * because the file store exists to stand in for S3 on a laptop.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../../src/errors.js';
import { ObjectNotFoundError } from '../../../src/storage/errors.js';
import type { ObjectInfo, ObjectStore } from '../../../src/storage/object-store.js';

export interface SuiteContext {
  readonly store: ObjectStore;
  readonly bucket: string;
  teardown(): Promise<void>;
}

const MiB = 1024 * 1024;
const BIG_BYTES = 20 * MiB + 12_345;

export function objectStoreSuite(name: string, setup: () => Promise<SuiteContext>): void {
  describe(`ObjectStore behaviour: ${name}`, () => {
    let ctx: SuiteContext;
    let store: ObjectStore;
    let bucket: string;
    // Each run writes under its own prefix, so a store that outlives the run cannot skew the lists.
    const run = `run-${randomBytes(4).toString('hex')}/`;

    beforeAll(async () => {
      ctx = await setup();
      store = ctx.store;
      bucket = ctx.bucket;
    });
    afterAll(async () => {
      await ctx?.teardown();
    });

    describe('put and get', () => {
      it('round-trips a 0-byte object', async () => {
        const key = `${run}empty`;
        const put = await store.put(bucket, key, Buffer.alloc(0));
        expect(put).toMatchObject({ bucket, key, size: 0, etag: md5(Buffer.alloc(0)) });
        const { body, info } = await store.get(bucket, key);
        expect((await readAll(body)).length).toBe(0);
        expect(info).toMatchObject({ size: 0, etag: md5(Buffer.alloc(0)) });
        expect(await store.head(bucket, key)).toMatchObject({ size: 0 });
      });

      it('round-trips a 1-byte object given as a string', async () => {
        const key = `${run}one`;
        const put = await store.put(bucket, key, 'x');
        expect(put).toMatchObject({ size: 1, etag: md5(Buffer.from('x')) });
        const { body } = await store.get(bucket, key);
        expect((await readAll(body)).toString()).toBe('x');
      });

      it('reports etag = MD5 hex of the bytes for single puts, from put, head, get and list', async () => {
        const key = `${run}etag/object.csv`;
        const bytes = Buffer.from('id,name\n1,ä\n');
        const expected = md5(bytes);
        expect((await store.put(bucket, key, bytes)).etag).toBe(expected);
        expect((await store.head(bucket, key))?.etag).toBe(expected);
        const { body, info } = await store.get(bucket, key);
        body.destroy();
        expect(info.etag).toBe(expected);
        const page = await store.list(bucket, { prefix: `${run}etag/` });
        expect(page.objects.map((o) => [o.key, o.size, o.etag])).toEqual([[key, bytes.length, expected]]);
      });

      it('streams a small Readable body as a single object with an MD5 etag', async () => {
        const key = `${run}small-stream`;
        const parts = [Buffer.from('a,b\n'), Buffer.from('1,2\n')];
        const put = await store.put(bucket, key, Readable.from(parts));
        expect(put).toMatchObject({ size: 8, etag: md5(Buffer.concat(parts)) });
        const { body } = await store.get(bucket, key);
        expect((await readAll(body)).toString()).toBe('a,b\n1,2\n');
      });

      it('keeps the content type and user metadata (keys lower-cased, as S3 does)', async () => {
        const key = `${run}meta.json`;
        await store.put(bucket, key, '{}', {
          contentType: 'application/json',
          metadata: { Origin: 'suite', 'client-id': '42' },
        });
        const head = await store.head(bucket, key);
        expect(head?.contentType).toBe('application/json');
        expect(head?.metadata).toEqual({ origin: 'suite', 'client-id': '42' });
        const { body, info } = await store.get(bucket, key);
        body.destroy();
        expect(info.contentType).toBe('application/json');
        expect(info.metadata).toEqual({ origin: 'suite', 'client-id': '42' });
      });

      it('replaces an object on a second put', async () => {
        const key = `${run}overwrite`;
        await store.put(bucket, key, 'first version');
        const second = await store.put(bucket, key, 'second');
        expect(second.etag).toBe(md5(Buffer.from('second')));
        const { body, info } = await store.get(bucket, key);
        expect((await readAll(body)).toString()).toBe('second');
        expect(info).toMatchObject({ size: 6, etag: second.etag });
      });

      it('stores nothing when the body stream fails partway (past the first multipart part)', async () => {
        const key = `${run}failed-put.bin`;
        const failing = Readable.from(
          (async function* () {
            for (let i = 0; i < 6; i++) yield Buffer.alloc(MiB, i);
            throw new Error('client went away');
          })(),
        );
        await expect(store.put(bucket, key, failing)).rejects.toThrow(SourceError);
        expect(await store.head(bucket, key)).toBeUndefined();
        await expect(store.get(bucket, key)).rejects.toBeInstanceOf(ObjectNotFoundError);
      });

      it('streams a ~20 MiB body in and out without holding it in memory', async () => {
        const key = `${run}big/generated.bin`;
        const generated = generatedBody(BIG_BYTES);
        const put = await store.put(bucket, key, generated.stream, {
          contentType: 'application/octet-stream',
        });
        const expectedMd5 = generated.md5();
        expect(put.size).toBe(BIG_BYTES);
        // A multipart upload's etag is the MD5 of the part MD5s with a part count: either form is S3's.
        expect(put.etag === expectedMd5 || /^[0-9a-f]{32}-\d+$/.test(put.etag ?? '')).toBe(true);
        expect((await store.head(bucket, key))?.size).toBe(BIG_BYTES);

        const gc = exposeGc();
        gc();
        const baseline = retained();
        let peak = 0;
        let size = 0;
        let nextCheck = MiB;
        const hash = createHash('md5');
        const { body, info } = await store.get(bucket, key);
        expect(info.size).toBe(BIG_BYTES);
        for await (const chunk of body) {
          const buffer = chunk as Buffer;
          hash.update(buffer);
          size += buffer.length;
          if (size >= nextCheck) {
            nextCheck += MiB;
            // Collect first: what is measured is what the stream keeps alive, not garbage awaiting GC.
            gc();
            peak = Math.max(peak, retained() - baseline);
          }
        }
        expect(size).toBe(BIG_BYTES);
        expect(hash.digest('hex')).toBe(expectedMd5);
        expect(peak).toBeLessThan(8 * MiB);
      });
    });

    describe('ranged get', () => {
      const key = `${run}ranges.bin`;
      const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256));

      beforeAll(async () => {
        await store.put(bucket, key, bytes);
      });

      it.each([
        ['the first byte', { start: 0, end: 0 }, bytes.subarray(0, 1)],
        ['the last byte', { start: 999, end: 999 }, bytes.subarray(999)],
        ['a middle slice', { start: 100, end: 199 }, bytes.subarray(100, 200)],
        ['an open-ended tail', { start: 990 }, bytes.subarray(990)],
        ['a range past the end, clamped', { start: 995, end: 5000 }, bytes.subarray(995)],
      ])('reads %s', async (_label, range, expected) => {
        const { body, info } = await store.get(bucket, key, { range });
        expect(await readAll(body)).toEqual(expected);
        // The info describes the object, not the slice.
        expect(info.size).toBe(1000);
        expect(info.etag).toBe(md5(bytes));
      });

      it('refuses a range that starts past the end', async () => {
        await expect(store.get(bucket, key, { range: { start: 1000 } })).rejects.toMatchObject({
          code: 'invalid_range',
        });
      });
    });

    describe('missing objects and buckets', () => {
      it('head of a missing object is undefined', async () => {
        expect(await store.head(bucket, `${run}no/such/key.csv`)).toBeUndefined();
      });

      it('get of a missing object fails with ObjectNotFoundError naming the key', async () => {
        const error = await store.get(bucket, `${run}no/such/key.csv`).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ObjectNotFoundError);
        expect((error as SourceError).code).toBe('source_not_found');
        expect((error as Error).message).toContain(`${run}no/such/key.csv`);
        expect((error as Error).message).toContain('does not exist');
      });

      it('every operation on a missing bucket fails with bucket_not_found', async () => {
        const missing = `${bucket}-missing-${randomBytes(3).toString('hex')}`;
        const expected = { code: 'bucket_not_found', message: expect.stringContaining(missing) };
        await expect(store.get(missing, 'k')).rejects.toMatchObject(expected);
        await expect(store.head(missing, 'k')).rejects.toMatchObject(expected);
        await expect(store.put(missing, 'k', 'x')).rejects.toMatchObject(expected);
        await expect(store.list(missing)).rejects.toMatchObject(expected);
      });
    });

    describe('list', () => {
      const prefix = `${run}page/`;
      const keys = Array.from({ length: 25 }, (_, i) => `${prefix}file-${String(i).padStart(2, '0')}.csv`);

      beforeAll(async () => {
        // Put in reverse so that a store returning insertion order fails the ordering checks.
        for (const key of [...keys].reverse()) await store.put(bucket, key, key);
      });

      it('pages 25 keys with maxKeys 10 into 10 + 10 + 5, in order, covering every key once', async () => {
        const pages: (readonly ObjectInfo[])[] = [];
        let token: string | undefined;
        do {
          const page = await store.list(bucket, { prefix, maxKeys: 10, ...(token ? { token } : {}) });
          pages.push(page.objects);
          token = page.nextToken;
        } while (token !== undefined && pages.length < 10);
        expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
        expect(pages.flat().map((o) => o.key)).toEqual(keys);
        for (const object of pages.flat()) {
          expect(object.size).toBe(Buffer.byteLength(object.key));
          expect(object.etag).toBe(md5(Buffer.from(object.key)));
        }
      });

      it('returns no nextToken on the last page', async () => {
        const page = await store.list(bucket, { prefix, maxKeys: 25 });
        expect(page.objects).toHaveLength(25);
        expect(page.nextToken).toBeUndefined();
      });

      it('returns an empty page for a prefix nothing has', async () => {
        expect(await store.list(bucket, { prefix: `${run}nothing-here/` })).toEqual({
          objects: [],
          prefixes: [],
        });
      });

      it('orders keys by their UTF-8 bytes, not by UTF-16 code units or per directory', async () => {
        const base = `${run}order/`;
        // "." < "/" < "0" in bytes, so "a.txt" < "a/b" < "a0"; U+FF21 sorts before U+1F600 in UTF-8 but after it in UTF-16.
        const names = ['A', 'a.txt', 'a/b', 'a0', 'b', 'é', '\uff21', '\u{1F600}'];
        for (const name of [...names].reverse()) await store.put(bucket, `${base}${name}`, name);
        const listed = await listAll(store, bucket, { prefix: base, maxKeys: 3 });
        expect(listed.objects).toEqual(names.map((n) => `${base}${n}`));
      });

      it('rejects a continuation token it did not issue', async () => {
        await expect(store.list(bucket, { prefix, token: 'not-a-token' })).rejects.toBeInstanceOf(
          SourceError,
        );
      });
    });

    describe('list with prefix and delimiter', () => {
      const base = `${run}tree/`;
      const keys = ['a.csv', 'b.csv', 'dir1/x.csv', 'dir1/y.csv', 'dir2/deep/z.csv', 'dir10/w.csv'].map(
        (k) => `${base}${k}`,
      );

      beforeAll(async () => {
        for (const key of keys) await store.put(bucket, key, 'x');
      });

      it('groups keys below the delimiter into common prefixes', async () => {
        const page = await store.list(bucket, { prefix: base, delimiter: '/' });
        expect(page.objects.map((o) => o.key)).toEqual([`${base}a.csv`, `${base}b.csv`]);
        expect(page.prefixes).toEqual([`${base}dir1/`, `${base}dir10/`, `${base}dir2/`]);
      });

      it('pages through objects and common prefixes together, each exactly once', async () => {
        const all = await listAll(store, bucket, { prefix: base, delimiter: '/', maxKeys: 1 });
        expect(all.objects).toEqual([`${base}a.csv`, `${base}b.csv`]);
        expect(all.prefixes).toEqual([`${base}dir1/`, `${base}dir10/`, `${base}dir2/`]);
        expect(all.pages).toBeGreaterThanOrEqual(3);
      });

      it('matches a prefix that ends inside a name', async () => {
        const page = await store.list(bucket, { prefix: `${base}dir1` });
        expect(page.objects.map((o) => o.key)).toEqual([
          `${base}dir1/x.csv`,
          `${base}dir1/y.csv`,
          `${base}dir10/w.csv`,
        ]);
      });

      it('lists one level deeper with the prefix of a common prefix', async () => {
        const page = await store.list(bucket, { prefix: `${base}dir2/`, delimiter: '/' });
        expect(page.objects).toEqual([]);
        expect(page.prefixes).toEqual([`${base}dir2/deep/`]);
      });
    });

    describe('delete', () => {
      it('removes an object and is idempotent', async () => {
        const key = `${run}delete/me.csv`;
        await store.put(bucket, key, 'bye');
        await store.delete(bucket, key);
        expect(await store.head(bucket, key)).toBeUndefined();
        await expect(store.get(bucket, key)).rejects.toBeInstanceOf(ObjectNotFoundError);
        await store.delete(bucket, key);
        await store.delete(bucket, `${run}delete/never-existed`);
        expect((await store.list(bucket, { prefix: `${run}delete/` })).objects).toEqual([]);
      });

      it('leaves the neighbours of a deleted key alone', async () => {
        await store.put(bucket, `${run}delete2/a`, 'a');
        await store.put(bucket, `${run}delete2/b`, 'b');
        await store.delete(bucket, `${run}delete2/a`);
        const page = await store.list(bucket, { prefix: `${run}delete2/` });
        expect(page.objects.map((o) => o.key)).toEqual([`${run}delete2/b`]);
      });
    });

    describe('copy', () => {
      it('copies bytes, etag, content type and metadata within the bucket, leaving the source', async () => {
        const from = `${run}copy/incoming/data file.csv`;
        const to = `${run}copy/processed/data file.csv`;
        await store.put(bucket, from, 'id\n1\n', { contentType: 'text/csv', metadata: { origin: 'suite' } });
        const copied = await store.copy(bucket, from, to);
        expect(copied).toMatchObject({ bucket, key: to, size: 5, etag: md5(Buffer.from('id\n1\n')) });
        const { body, info } = await store.get(bucket, to);
        expect((await readAll(body)).toString()).toBe('id\n1\n');
        expect(info.contentType).toBe('text/csv');
        expect(info.metadata).toEqual({ origin: 'suite' });
        expect(await store.head(bucket, from)).toBeDefined();
      });

      it('fails with ObjectNotFoundError when the source is missing', async () => {
        await expect(store.copy(bucket, `${run}copy/missing`, `${run}copy/target`)).rejects.toBeInstanceOf(
          ObjectNotFoundError,
        );
        expect(await store.head(bucket, `${run}copy/target`)).toBeUndefined();
      });
    });

    describe('tag', () => {
      it('tags an object without changing its bytes or etag, replacing earlier tags', async () => {
        const key = `${run}tag/object.csv`;
        const put = await store.put(bucket, key, 'a\n');
        await store.tag(bucket, key, { 'inlet-status': 'loaded', 'inlet-ingestion': '123' });
        await store.tag(bucket, key, { 'inlet-status': 'rejected' });
        const head = await store.head(bucket, key);
        expect(head).toMatchObject({ size: 2, etag: put.etag });
        const readable = store as ObjectStore & {
          tags?(b: string, k: string): Promise<Record<string, string>>;
        };
        if (readable.tags) expect(await readable.tags(bucket, key)).toEqual({ 'inlet-status': 'rejected' });
      });

      it('fails with ObjectNotFoundError for a missing object', async () => {
        await expect(store.tag(bucket, `${run}tag/missing`, { a: 'b' })).rejects.toBeInstanceOf(
          ObjectNotFoundError,
        );
      });
    });

    describe('keys that need care', () => {
      const names = [
        'with space.csv',
        'plus+sign.csv',
        'percent%20literal.csv',
        '100%.csv',
        'unicodé/日本語 ファイル.csv',
        'deep/nested/a/b/c/d.csv',
        "quote'and(paren)&amp;.csv",
      ];

      it.each(names)('stores, heads, reads, lists, copies and deletes %j', async (name) => {
        const key = `${run}keys/${name}`;
        await store.put(bucket, key, name);
        expect(await store.head(bucket, key)).toMatchObject({ key, size: Buffer.byteLength(name) });
        const { body, info } = await store.get(bucket, key);
        expect((await readAll(body)).toString()).toBe(name);
        expect(info.key).toBe(key);
        const listed = await store.list(bucket, { prefix: key });
        expect(listed.objects.map((o) => o.key)).toEqual([key]);
        const copy = `${run}keys-copy/${name}`;
        expect((await store.copy(bucket, key, copy)).key).toBe(copy);
        await store.delete(bucket, key);
        await store.delete(bucket, copy);
        expect(await store.head(bucket, key)).toBeUndefined();
      });
    });
  });
}

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listAll(
  store: ObjectStore,
  bucket: string,
  options: { prefix: string; delimiter?: string; maxKeys: number },
): Promise<{ objects: string[]; prefixes: string[]; pages: number }> {
  const objects: string[] = [];
  const prefixes: string[] = [];
  let pages = 0;
  let token: string | undefined;
  do {
    const page = await store.list(bucket, { ...options, ...(token ? { token } : {}) });
    pages++;
    objects.push(...page.objects.map((o) => o.key));
    prefixes.push(...page.prefixes);
    token = page.nextToken;
  } while (token !== undefined && pages < 1000);
  return { objects, prefixes, pages };
}

/**
 * Deterministic bytes produced on demand (nothing stored in the repository), hashed as they are
 * produced. Each chunk carries its index so that parts reassembled out of order change the MD5.
 */
function generatedBody(total: number): { stream: Readable; md5(): string } {
  const block = randomBytes(64 * 1024);
  const hash = createHash('md5');
  let produced = 0;
  let index = 0;
  const stream = new Readable({
    read() {
      if (produced >= total) {
        this.push(null);
        return;
      }
      const chunk = Buffer.allocUnsafe(Math.min(block.length, total - produced));
      block.copy(chunk, 0, 0, chunk.length);
      if (chunk.length >= 4) chunk.writeUInt32BE(index, 0);
      index++;
      produced += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, md5: () => hash.digest('hex') };
}

function retained(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** A handle on V8's collector without restarting the worker with --expose-gc. */
function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
