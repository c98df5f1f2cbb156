import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SourceError } from '../../../src/errors.js';
import { objectSource } from '../../../src/storage/object-source.js';
import type { ObjectInfo, ObjectStore } from '../../../src/storage/object-store.js';

describe('objectSource', () => {
  function fakeStore(objects: Record<string, { body: string; info: Partial<ObjectInfo> }>) {
    const calls: unknown[] = [];
    const store = {
      scheme: 's3',
      async get(bucket: string, key: string, options?: unknown) {
        calls.push({ bucket, key, options });
        const object = objects[key];
        if (!object) throw new SourceError('source_not_found', 'missing');
        return {
          body: Readable.from([Buffer.from(object.body)]),
          info: { bucket, key, size: 0, ...object.info },
        };
      },
    } as unknown as ObjectStore;
    return { store, calls };
  }

  async function text(body: Readable): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString();
  }

  it('carries the identity and orders by lastModified as a fixed-width millisecond string', async () => {
    const { store } = fakeStore({ 'in/a b.csv': { body: 'x', info: { etag: 'e1' } } });
    const source = objectSource(store, 'inbox', 'in/a b.csv', {
      etag: 'e1',
      size: 1,
      lastModified: new Date(1_700_000_000_123),
    });
    expect(source).toMatchObject({
      uri: 's3://inbox/in/a%20b.csv',
      name: 'in/a b.csv',
      etag: 'e1',
      size: 1,
      order: '00000001700000000123',
    });
    expect(source.versionId).toBeUndefined();
    expect(await text(await source.open())).toBe('x');
    // open() may be called again (a retry reads the object again).
    expect(await text(await source.open())).toBe('x');
  });

  it('prefers the event sequencer for order and keeps receivedAt', () => {
    const { store } = fakeStore({});
    const receivedAt = new Date();
    const source = objectSource(store, 'b', 'k', {
      lastModified: new Date(1),
      sequencer: '0055AED6DCD90281E5',
      receivedAt,
    });
    expect(source.order).toBe('0055AED6DCD90281E5');
    expect(source.receivedAt).toBe(receivedAt);
  });

  it('reads the announced version when there is one', async () => {
    const { store, calls } = fakeStore({ k: { body: 'v', info: { etag: 'other' } } });
    const source = objectSource(store, 'b', 'k', { versionId: 'v3', etag: 'e' });
    expect(source.versionId).toBe('v3');
    await text(await source.open());
    expect(calls).toEqual([{ bucket: 'b', key: 'k', options: { versionId: 'v3' } }]);
  });

  it('refuses to read an unversioned object overwritten since its etag was announced', async () => {
    const { store } = fakeStore({ k: { body: 'new', info: { etag: 'new-etag' } } });
    const source = objectSource(store, 'b', 'k', { etag: 'old-etag' });
    await expect(source.open()).rejects.toMatchObject({ code: 'source_changed' });
  });

  it('uses the store own URI when it has one (file stores name objects by path)', () => {
    const store = {
      scheme: 'file',
      objectUri: (bucket: string, key: string) => `file:///root/${bucket}/${key}`,
    } as unknown as ObjectStore;
    expect(objectSource(store, 'b', 'k.csv').uri).toBe('file:///root/b/k.csv');
  });
});
