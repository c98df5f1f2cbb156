import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ingestArguments } from '../../../src/serverless/hand-over.js';
import { pinnedObjectSource } from '../../../src/storage/object-source.js';
import type { ObjectInfo, ObjectStore } from '../../../src/storage/object-store.js';

/** A versioned bucket of one key: version v1 (etag e1) was overwritten by v2 (etag e2), the current one. */
function versionedStore() {
  const versions: Record<string, { body: string; etag: string }> = {
    v1: { body: 'old', etag: 'e1' },
    v2: { body: 'new', etag: 'e2' },
  };
  const calls: unknown[] = [];
  const infoOf = (versionId: string): ObjectInfo =>
    ({ bucket: 'inbox', key: 'k', size: 3, etag: versions[versionId]?.etag, versionId }) as ObjectInfo;
  const store = {
    scheme: 's3',
    async head(_bucket: string, _key: string, options: { versionId?: string } = {}) {
      calls.push({ head: options });
      const versionId = options.versionId ?? 'v2';
      return versions[versionId] ? infoOf(versionId) : undefined;
    },
    async get(_bucket: string, _key: string, options: { versionId?: string } = {}) {
      calls.push({ get: options });
      const versionId = options.versionId ?? 'v2';
      return { body: Readable.from([Buffer.from(versions[versionId]?.body ?? '')]), info: infoOf(versionId) };
    },
  } as unknown as ObjectStore;
  return { store, calls };
}

async function text(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('pinnedObjectSource: a runner reads exactly the object it was handed', () => {
  it('reads the named version although a newer one is current', async () => {
    const { store, calls } = versionedStore();
    const source = await pinnedObjectSource(store, 'inbox', 'k', { versionId: 'v1', etag: 'e1' });
    expect(source).toMatchObject({ versionId: 'v1', etag: 'e1' });
    expect(await text(await source.open())).toBe('old');
    expect(calls).toEqual([{ head: { versionId: 'v1' } }, { get: { versionId: 'v1' } }]);
  });

  it('refuses with source_changed when the key no longer holds the ETag it was handed', async () => {
    const { store } = versionedStore();
    await expect(pinnedObjectSource(store, 'inbox', 'k', { etag: 'e1' })).rejects.toMatchObject({
      code: 'source_changed',
      message: expect.stringContaining('etag e1, now e2'),
    });
  });

  it('says so when the version is gone', async () => {
    const { store } = versionedStore();
    await expect(pinnedObjectSource(store, 'inbox', 'k', { versionId: 'v0' })).rejects.toMatchObject({
      code: 'source_not_found',
      message: expect.stringContaining('no version v0'),
    });
  });

  it('the hand-over command carries the version and ETag', () => {
    const request = {
      bucket: 'inbox',
      key: 'k',
      uri: 's3://inbox/k',
      ingestionId: '00000000-0000-8000-8000-000000000000',
      pipeline: 'orders',
      attempt: 1,
      reason: 'big',
    };
    expect(ingestArguments({ ...request, versionId: 'v1', etag: 'e1' }).slice(-4)).toEqual([
      '--version-id',
      'v1',
      '--etag',
      'e1',
    ]);
    expect(ingestArguments(request)).not.toContain('--etag');
  });
});
