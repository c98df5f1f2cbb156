/**
 * The archive provider end to end on real object stores (the file adapter, and the local S3 gateway over
 * HTTP with SigV4), over a real spool: create → change some files → create again (only the change is
 * uploaded) → restore each snapshot and compare the trees byte for byte; prune; tampered and missing
 * chunks, and a wrong key, fail with errors that say which.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../../src/gateway/server.js';
import { Spool } from '../../../src/server/spool.js';
import { ArchiveProvider } from '../../../src/snapshots/archive/provider.js';
import type { RepositoryLocation } from '../../../src/snapshots/archive/repository.js';
import type { SnapshotSummary } from '../../../src/snapshots/provider.js';
import { openTarget } from '../../../src/snapshots/target.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import { accept, csvBytes, type TreeNode, treeDiff, treeImage } from './tree.js';

const CHUNKER = { min: 2048, avg: 8192, max: 32768 };
const credentials = { accessKeyId: 'snapshot-test-key', secretAccessKey: 'snapshot-test-secret-0123456789' };
/** A spool entry named by its id: since the one-file layout, the file an upload's bytes are in. */
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

interface Backend {
  location: RepositoryLocation;
  teardown(): Promise<void>;
}

const backends: Array<[string, (dir: string) => Promise<Backend>]> = [
  [
    'file:// (the file adapter)',
    async (dir) => {
      const target = openTarget(`file://${join(dir, 'snapshots')}`, { s3: () => undefined as never });
      return { location: target.location, teardown: async () => undefined };
    },
  ],
  [
    's3:// (the local gateway)',
    async (dir) => {
      const gateway = await startGateway({
        dataDir: join(dir, 'gateway'),
        port: 0,
        credentials,
        buckets: ['backups'],
      });
      const store = new S3ObjectStore({
        endpoint: gateway.endpoint,
        region: 'us-east-1',
        credentials,
        forcePathStyle: true,
      });
      const target = openTarget('s3://backups/inlet/spool', { s3: () => store });
      return {
        location: target.location,
        teardown: async () => {
          store.close();
          await gateway.close();
        },
      };
    },
  ],
];

describe.each(backends)('archive snapshots on %s', (_name, makeBackend) => {
  let dir: string;
  let backend: Backend;
  let spool: Spool;
  const key = randomBytes(32);
  const provider = (options: { key?: Buffer } = {}) =>
    new ArchiveProvider({
      location: backend.location,
      key: options.key ?? key,
      source: spool.dir,
      chunker: CHUNKER,
      lock: { attempts: 2, retryMs: 10 },
    });
  const images = new Map<string, Map<string, TreeNode>>();
  const snapshots: SnapshotSummary[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'inlet-archive-'));
    backend = await makeBackend(dir);
    spool = new Spool(join(dir, 'spool'), { minFreeBytes: 0 });
    await spool.open();
    for (let i = 0; i < 30; i++)
      await accept(spool, `orders-${i}.csv`, csvBytes(200 + ((i * 7919) % 24_000), `e${i}`));
    // A few claimed and finished, as a worker leaves them.
    for (let i = 0; i < 8; i++) {
      const entry = await spool.claim();
      if (entry && i < 6) await spool.finish(entry, i === 5 ? 'failed' : 'done');
    }
    // Beyond the spool's own layout: nested directories, odd modes, an empty file.
    await mkdir(join(spool.dir, 'notes', 'deep'), { recursive: true });
    await writeFile(join(spool.dir, 'notes', 'deep', 'log.txt'), csvBytes(40_000, 'log'));
    await writeFile(join(spool.dir, 'notes', 'empty'), '');
    await writeFile(join(spool.dir, 'notes', 'secret'), 'only me', { mode: 0o600 });
    await chmod(join(spool.dir, 'notes', 'deep'), 0o750);
    // An upload in progress: never part of a snapshot.
    await mkdir(join(spool.dir, 'tmp', 'in-progress'));
    await writeFile(join(spool.dir, 'tmp', 'in-progress', 'data'), 'half an upl');
  });

  afterAll(async () => {
    await backend?.teardown();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes a first snapshot of every file, tmp/ excluded', async () => {
    images.set('first', await treeImage(spool.dir));
    const first = await provider().create();
    snapshots.push(first);
    const files = [...(images.get('first') as Map<string, TreeNode>).values()].filter(
      (n) => n.type === 'file',
    );
    expect(first).toMatchObject({ provider: 'archive', files: files.length });
    expect(first.bytes).toBe(files.reduce((sum, n) => sum + (n.content?.length ?? 0), 0));
    expect(first.id).toMatch(/^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}$/);
    // Content is encrypted (AES-GCM adds a header and tag per chunk), and deduplicated meta.json-sized bits aside,
    // roughly everything was uploaded once.
    expect(first.bytesUploaded).toBeGreaterThan(first.bytes * 0.9);
  });

  it('uploads only what changed the second time', async () => {
    // About 1%: one new upload, two entries moving on (no new bytes), one appended line, one deletion.
    const added = csvBytes(6000, 'new');
    await accept(spool, 'orders-new.csv', added);
    const claimed = await spool.claim();
    if (claimed) await spool.finish(claimed, 'done');
    await appendFile(join(spool.dir, 'notes', 'deep', 'log.txt'), 'one more line\n');
    await rm(join(spool.dir, 'notes', 'empty'));
    images.set('second', await treeImage(spool.dir));

    const second = await provider().create();
    snapshots.push(second);
    const first = snapshots[0] as SnapshotSummary;
    expect(second.id > first.id).toBe(true);
    expect(second.bytesUploaded).toBeGreaterThanOrEqual(added.length);
    expect(second.bytesUploaded).toBeLessThan(first.bytesUploaded * 0.15);
    expect((await provider().list()).map((s) => s.id)).toEqual([first.id, second.id]);
  });

  it('restores each snapshot exactly, byte for byte, with modes and times', async () => {
    for (const [index, label] of ['first', 'second'].entries()) {
      const to = join(dir, `restore-${label}`);
      const snapshot = snapshots[index] as SnapshotSummary;
      const report = await provider().restore(snapshot.id, to);
      expect(report).toMatchObject({ id: snapshot.id, files: snapshot.files, bytes: snapshot.bytes });
      expect(treeDiff(images.get(label) as Map<string, TreeNode>, await treeImage(to)), label).toEqual([]);
    }
    const verified = await provider().verify((snapshots[1] as SnapshotSummary).id);
    expect(verified).toMatchObject({ files: (snapshots[1] as SnapshotSummary).files });
    expect(verified.chunks).toBeGreaterThan(30);
  });

  it('refuses a non-empty restore target unless forced', async () => {
    const to = join(dir, 'restore-first');
    const id = (snapshots[0] as SnapshotSummary).id;
    await expect(provider().restore(id, to)).rejects.toMatchObject({ code: 'restore_target_not_empty' });
    await writeFile(join(to, 'notes', 'secret'), 'overwritten');
    await provider().restore(id, to, { force: true });
    expect(treeDiff(images.get('first') as Map<string, TreeNode>, await treeImage(to))).toEqual([]);
  });

  it('fails clearly with a wrong key, before touching anything', async () => {
    const wrong = provider({ key: randomBytes(32) });
    const attempts = [
      () => wrong.list(),
      () => wrong.create(),
      () => wrong.verify((snapshots[0] as SnapshotSummary).id),
    ];
    for (const attempt of attempts) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'wrong_key' });
      expect((error as Error).message).toMatch(/does not open the snapshots in .*INLET_SNAPSHOT_KEY/);
    }
    const to = join(dir, 'restore-wrong-key');
    await expect(wrong.restore((snapshots[0] as SnapshotSummary).id, to)).rejects.toMatchObject({
      code: 'wrong_key',
    });
    await expect(readdir(to)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('prunes what retention does not keep, and its chunks, leaving the rest restorable', async () => {
    const before = await backend.location.store.list(backend.location.bucket, {
      prefix: `${backend.location.prefix}chunks/`,
    });
    const dry = await provider().prune({ last: 1 }, { dryRun: true });
    expect(dry.deleted.map((s) => s.id)).toEqual([(snapshots[0] as SnapshotSummary).id]);
    expect((await provider().list()).length).toBe(2);

    const report = await provider().prune({ last: 1 });
    expect(report.deleted.map((s) => s.id)).toEqual([(snapshots[0] as SnapshotSummary).id]);
    expect(report.kept.map((s) => s.id)).toEqual([(snapshots[1] as SnapshotSummary).id]);
    // The deleted empty file's and the old log tail's chunks were used only by the first snapshot.
    expect(report.chunksDeleted).toBeGreaterThan(0);
    expect(report.chunksDeleted).toBe(dry.chunksDeleted);
    expect((await provider().list()).map((s) => s.id)).toEqual([(snapshots[1] as SnapshotSummary).id]);
    expect(before.objects.length).toBeGreaterThan(report.chunksDeleted);

    const to = join(dir, 'restore-after-prune');
    await provider().restore((snapshots[1] as SnapshotSummary).id, to);
    expect(treeDiff(images.get('second') as Map<string, TreeNode>, await treeImage(to))).toEqual([]);
    // Pruning again deletes nothing.
    expect(await provider().prune({ last: 1 })).toMatchObject({ deleted: [], chunksDeleted: 0 });
  });

  it('refuses to prune while another process holds the repository', async () => {
    const { store, bucket, prefix } = backend.location;
    const lock = `${prefix}locks/shared-${Date.now().toString(36)}-test`;
    await store.put(
      bucket,
      lock,
      JSON.stringify({ kind: 'shared', host: 'elsewhere', pid: 1, createdAt: 'now' }),
    );
    try {
      const error = await provider()
        .prune({ last: 1 })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'locked' });
      expect((error as Error).message).toMatch(/locked by another Inlet process .*pid 1 on elsewhere/);
      // Creating goes on: many creates may share the repository.
      snapshots.push(await provider().create());
    } finally {
      await store.delete(bucket, lock);
    }
  });

  it('names the tampered or missing chunk and its file in verify and restore', async () => {
    const latest = snapshots[snapshots.length - 1] as SnapshotSummary;
    const { store, bucket, prefix } = backend.location;
    const chunks = (await store.list(bucket, { prefix: `${prefix}chunks/` })).objects;
    // The largest chunk belongs to an upload (its entry file, or the `data` of the earlier layout) or to the log.
    const victim = [...chunks].sort((a, b) => b.size - a.size)[0];
    if (victim === undefined) throw new Error('no chunks');
    const name = victim.key.slice(victim.key.lastIndexOf('/') + 1);
    const original = await readAll((await store.get(bucket, victim.key)).body);
    const damaged = Buffer.from(original);
    damaged[100] = (damaged[100] as number) ^ 0x40;
    await store.put(bucket, victim.key, damaged);

    const verify = await provider()
      .verify(latest.id)
      .catch((e: unknown) => e);
    expect(verify).toMatchObject({ code: 'verify_failed' });
    expect((verify as Error).message).toMatch(
      new RegExp(`chunk ${name} \\(of [^)]+/(data|log\\.txt|${UUID})\\) failed authentication`),
    );

    const to = join(dir, 'restore-tampered');
    const restore = await provider()
      .restore(latest.id, to)
      .catch((e: unknown) => e);
    expect(restore).toMatchObject({ code: 'chunk_tampered' });
    expect((restore as Error).message).toMatch(
      new RegExp(`stopped at [^:]+/(data|log\\.txt|${UUID}): chunk ${name} .*failed authentication`),
    );
    // Nothing half-written: no temporary file, and not the damaged file under its real name.
    const leftovers = (await treeImage(to)).keys();
    expect([...leftovers].filter((p) => p.includes('.inlet-restore-'))).toEqual([]);

    await store.delete(bucket, victim.key);
    const missing = await provider()
      .verify(latest.id)
      .catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(new RegExp(`chunk ${name} \\(of .*\\) is missing`));
    await store.put(bucket, victim.key, original);
    await expect(provider().verify(latest.id)).resolves.toMatchObject({ id: latest.id });
  });

  it("refuses a manifest or summary moved to another snapshot's name", async () => {
    const { store, bucket, prefix } = backend.location;
    const [older, newer] = (await provider().list()).map((s) => s.id);
    if (older === undefined || newer === undefined) throw new Error('need two snapshots');
    const newerManifest = await readAll((await store.get(bucket, `${prefix}manifests/${newer}`)).body);
    const olderManifest = await readAll((await store.get(bucket, `${prefix}manifests/${older}`)).body);
    await store.put(bucket, `${prefix}manifests/${older}`, newerManifest);
    await expect(provider().verify(older)).rejects.toMatchObject({ code: 'manifest_tampered' });
    await store.put(bucket, `${prefix}manifests/${older}`, olderManifest);
  });
});

async function readAll(body: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}
