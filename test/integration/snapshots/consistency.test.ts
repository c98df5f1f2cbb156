/**
 * A snapshot taken while uploads stream into a real Spool and workers claim, finish and prune entries
 * holds only complete entries: never anything from tmp/, every entry once, in one state, with its data
 * matching the size and SHA-256 its sidecar records, and every upload acknowledged before it started.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSpoolId, Spool } from '../../../src/server/spool.js';
import { readEntryAt } from '../../../src/server/spool-format.js';
import { ArchiveProvider } from '../../../src/snapshots/archive/provider.js';
import { openTarget } from '../../../src/snapshots/target.js';
import { csvBytes } from './tree.js';

const STATES = ['incoming', 'processing', 'done', 'failed'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet-snapshot-consistency-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A body that arrives in small pieces over several milliseconds, so uploads are in tmp/ for a while. */
function slowBody(bytes: Buffer): Readable {
  return Readable.from(
    (async function* () {
      for (let offset = 0; offset < bytes.length; offset += 4096) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        yield bytes.subarray(offset, offset + 4096);
      }
    })(),
  );
}

describe('a snapshot taken while the spool is busy', () => {
  it('contains only complete entries, each once', async () => {
    const spool = new Spool(join(dir, 'spool'), { minFreeBytes: 0 });
    await spool.open();
    const provider = new ArchiveProvider({
      location: openTarget(`file://${join(dir, 'snapshots')}`, { s3: () => undefined as never }).location,
      key: randomBytes(32),
      source: spool.dir,
      chunker: { min: 2048, avg: 8192, max: 32768 },
    });
    const acknowledged: string[] = [];
    let stop = false;
    const uploads = Array.from({ length: 3 }, async (_, u) => {
      for (let i = 0; !stop; i++) {
        const entry = await spool.accept(slowBody(csvBytes(2000 + ((i * 4099) % 20_000), `u${u}-${i}`)), {
          name: `u${u}-${i}.csv`,
          maxBytes: 1 << 20,
        });
        acknowledged.push(entry.id);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    const worker = (async () => {
      for (let n = 0; !stop; n++) {
        const entry = await spool.claim();
        if (entry === undefined) {
          await new Promise((resolve) => setTimeout(resolve, 2));
          continue;
        }
        await new Promise((resolve) => setTimeout(resolve, n % 3));
        if (n % 7 === 3) await spool.release(entry);
        else await spool.finish(entry, n % 11 === 0 ? 'failed' : 'done');
        if (n % 5 === 4) await spool.prune({ keepCount: 10 });
      }
    })();

    try {
      await new Promise((resolve) => setTimeout(resolve, 150));
      for (let round = 0; round < 3; round++) {
        const before = new Set(acknowledged);
        const pruned = new Set<string>();
        const snapshot = await provider.create();
        const to = join(dir, `restored-${round}`);
        await provider.restore(snapshot.id, to);

        expect(await readdir(join(to, 'tmp'))).toEqual([]);
        const seen = new Map<string, string>();
        for (const state of STATES) {
          for (const id of await readdir(join(to, state))) {
            expect(isSpoolId(id), id).toBe(true);
            expect(seen.get(id), `${id} in ${seen.get(id)} and ${state}`).toBeUndefined();
            seen.set(id, state);
            // Whole: its sidecar is readable and the data before it has the size and hash it names.
            const { sidecar, dataPath } = await readEntryAt(join(to, state, id));
            const data = (await readFile(dataPath)).subarray(0, sidecar.size);
            expect(data.length, id).toBe(sidecar.size);
            expect(createHash('sha256').update(data).digest('hex'), id).toBe(sidecar.sha256);
          }
        }
        // Acknowledged before the snapshot began: present, unless retention pruned it from done/ meanwhile.
        for (const id of before) {
          if (!seen.has(id) && (await spool.locate(id)) === undefined) pruned.add(id);
          else expect(seen.has(id), `${id} acknowledged before the snapshot, missing from it`).toBe(true);
        }
        expect(seen.size).toBeGreaterThan(0);
        expect(seen.size + pruned.size).toBeGreaterThanOrEqual(before.size);
      }
    } finally {
      stop = true;
      await Promise.all([...uploads, worker]);
    }
  });
});
