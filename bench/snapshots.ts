/**
 * The snapshot section of `npm run bench` (alone: `BENCH_ONLY=snapshots npm run bench`). Each figure stands
 * beside a reference measured in the same run, on the same tree and disk:
 *  - snapshot throughput: an archive snapshot of a spool (content-defined chunks, HMAC names, AES-256-GCM,
 *    into a file:// target, every object fsynced) beside `tar -cf` of the same tree followed by an fsync
 *    of the archive: the plain copy every backup is measured against. The same snapshot into a store that
 *    keeps nothing shows how much of the time is Inlet's own work and how much the target's;
 *  - restore throughput: `inlet snapshot restore` beside `tar -xf` of that archive;
 *  - incremental: what a second snapshot uploads after about 1% of the spool changed (new uploads arrive,
 *    workers move entries from incoming/ to done/, retention deletes a few), as a share of the first
 *    snapshot's upload; the goal is at most 5%.
 * BENCH_SNAPSHOT_MB (default 200) sets the size of the spool. Local disk only; every loop is bounded.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { ArchiveProvider } from '../src/snapshots/archive/provider.js';
import type { RepositoryLocation } from '../src/snapshots/archive/repository.js';
import { openTarget } from '../src/snapshots/target.js';
import { ObjectNotFoundError } from '../src/storage/errors.js';
import type { ObjectStore } from '../src/storage/object-store.js';
import { tableRow } from './table.js';

const run = promisify(execFile);
const MB = 1e6;

export interface SnapshotBenchOptions {
  /** A scratch directory; the spool, the target and the references go under it. */
  readonly work: string;
  /** Size of the spool; default BENCH_SNAPSHOT_MB, else 200. */
  readonly megabytes?: number;
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const rate = (bytes: number, seconds: number) => `${fmt(bytes / MB / seconds, 1)} MB/s`;

async function timeIt<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - started) / 1000, value };
}

/** A spool-shaped id (a UUIDv7) for the bench's `index`-th entry. */
function entryId(index: number): string {
  const hex = index.toString(16);
  return `0190e5a0-${(index >>> 16).toString(16).padStart(4, '0').slice(-4)}-7${(index & 0xfff).toString(16).padStart(3, '0')}-8000-${hex.padStart(12, '0')}`;
}

/** A spool entry as spool.ts lays it out: `data` (CSV-like, so it compresses and chunks as uploads do) and `meta.json`. */
async function writeEntry(root: string, state: string, index: number, size: number): Promise<number> {
  const dir = join(root, state, entryId(index));
  await mkdir(dir, { recursive: true });
  const row = (i: number) =>
    `${index * 100_000 + i},2026-01-${String((i % 28) + 1).padStart(2, '0')}T10:${String(i % 60).padStart(2, '0')}:00Z,` +
    `customer ${createHash('md5').update(`${index}:${i}`).digest('hex').slice(0, 10)},${(i * 37) % 10_000}.${i % 100},${i % 3 === 0}\n`;
  const parts: string[] = ['order_id,placed_at,customer,amount,paid\n'];
  let length = parts[0]?.length ?? 0;
  for (let i = 0; length < size; i++) {
    const line = row(i);
    parts.push(line);
    length += line.length;
  }
  const data = Buffer.from(parts.join(''));
  await writeFile(join(dir, 'data'), data);
  const meta = {
    name: `orders-${index}.csv`,
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
  };
  await writeFile(
    join(dir, 'meta.json'),
    JSON.stringify({ ...meta, receivedAt: new Date().toISOString(), meta: {} }),
  );
  return data.length;
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** An ObjectStore that accepts every object and keeps none: it isolates the snapshot pipeline from storage. */
function nullLocation(): RepositoryLocation {
  const config = new Map<string, Buffer>();
  const store: ObjectStore = {
    scheme: 'file',
    async get(bucket, key) {
      const kept = config.get(key);
      if (kept === undefined) throw new ObjectNotFoundError(`null://${bucket}/${key}`);
      return { body: Readable.from([kept]), info: { bucket, key, size: kept.length } };
    },
    async head() {
      return undefined;
    },
    async put(bucket, key, body) {
      const bytes = typeof body === 'string' || Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.alloc(0);
      // Only the repository's config is read back (to open it); chunks and manifests are dropped.
      if (key === 'config') config.set(key, bytes);
      return { bucket, key, size: bytes.length };
    },
    async list() {
      return { objects: [], prefixes: [] };
    },
    async delete() {},
    async copy(bucket, _from, key) {
      return { bucket, key, size: 0 };
    },
    async tag() {},
  };
  return { store, bucket: 'null', prefix: '', uri: 'null://' };
}

export async function benchSnapshots(options: SnapshotBenchOptions): Promise<string[]> {
  const megabytes = options.megabytes ?? Number(process.env.BENCH_SNAPSHOT_MB ?? 200);
  const root = join(options.work, 'snapshot-bench');
  const spool = join(root, 'spool');
  await rm(root, { recursive: true, force: true });
  for (const state of ['tmp', 'incoming', 'processing', 'done', 'failed'])
    await mkdir(join(spool, state), { recursive: true });

  // Sizes from 20 KB to about 4 MB, most of them small, as uploads tend to be.
  let total = 0;
  let index = 0;
  const entries: Array<{ state: string; index: number }> = [];
  while (total < megabytes * MB) {
    const size = Math.round(20_000 * 200 ** (((index * 0.618) % 1) ** 2));
    const state = index % 10 === 0 ? 'incoming' : 'done';
    total += await writeEntry(spool, state, index, size);
    entries.push({ state, index });
    index++;
  }
  await run('sync');

  const provider = new ArchiveProvider({
    location: openTarget(`file://${join(root, 'target')}`, { s3: () => undefined as never }).location,
    key: randomBytes(32),
    source: spool,
  });

  // The reference first, so that the snapshot does not benefit from a cache the reference warmed alone.
  const tarFile = join(root, 'reference.tar');
  const tar = await timeIt(async () => {
    await run('tar', ['-cf', tarFile, '-C', spool, '.']);
    await fsyncFile(tarFile);
  });
  const first = await timeIt(() => provider.create());
  // The same snapshot into a store that keeps nothing: Inlet's own work (read, chunk, hash, encrypt) alone.
  const pipeline = await timeIt(() =>
    new ArchiveProvider({ location: nullLocation(), key: randomBytes(32), source: spool }).create(),
  );

  // About 1% changes: new uploads, entries finished by the workers, a few pruned by retention.
  let added = 0;
  for (let i = 0; added < total * 0.01; i++) added += await writeEntry(spool, 'incoming', index + i, 200_000);
  const incoming = entries.filter((e) => e.state === 'incoming');
  for (const entry of incoming.slice(0, Math.ceil(incoming.length / 2))) {
    const id = entryId(entry.index);
    await rename(join(spool, 'incoming', id), join(spool, 'done', id));
  }
  for (const entry of entries.filter((e) => e.state === 'done').slice(0, 3)) {
    const id = entryId(entry.index);
    await rm(join(spool, 'done', id), { recursive: true });
  }
  const second = await timeIt(() => provider.create());

  const restoreDir = join(root, 'restored');
  const tarDir = join(root, 'tar-restored');
  await mkdir(tarDir);
  const untar = await timeIt(() => run('tar', ['-xf', tarFile, '-C', tarDir]));
  const restore = await timeIt(() => provider.restore(first.value.id, restoreDir));
  provider.close();

  const ratio = second.value.bytesUploaded / first.value.bytesUploaded;
  // tar always moves the whole spool, which is what the first snapshot read.
  const versusTar = (label: string, bytes: number, seconds: number, tarSeconds: number) =>
    tableRow(
      label,
      rate(bytes, seconds),
      rate(first.value.bytes, tarSeconds),
      `${fmt(tarSeconds / seconds)}x`,
    );
  const rows = [
    `\n# snapshots: spool of ${entries.length} entries, ${fmt(total / MB, 1)} MB, into a file:// target`,
    versusTar('snapshot MB/s vs tar -cf + fsync', first.value.bytes, first.seconds, tar.seconds),
    versusTar('  same, into a store that keeps nothing', pipeline.value.bytes, pipeline.seconds, tar.seconds),
    versusTar('restore MB/s vs tar -xf', first.value.bytes, restore.seconds, untar.seconds),
    tableRow(
      '2nd snapshot upload after 1% (goal <= 5%)',
      `${fmt(second.value.bytesUploaded / MB, 2)} MB`,
      `${fmt(first.value.bytesUploaded / MB, 1)} MB`,
      `${fmt(ratio * 100, 2)}%`,
    ),
    tableRow(
      '2nd snapshot time vs the 1st',
      `${fmt(second.seconds)} s`,
      `${fmt(first.seconds)} s`,
      `${fmt(first.seconds / second.seconds, 1)}x`,
    ),
    `# changed: ${fmt(added / MB, 2)} MB of new uploads (${fmt((added / total) * 100, 2)}%), ${Math.ceil(incoming.length / 2)} entries moved, 3 deleted`,
  ];
  await rm(root, { recursive: true, force: true });
  return rows;
}
