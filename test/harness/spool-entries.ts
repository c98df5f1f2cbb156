/**
 * Spool entries on disk, for tests that damage them or lay them out as an earlier version did. The layouts
 * are described in src/server/spool-format.ts.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SpoolEntry } from '../../src/server/spool.js';

/** The data of an entry as a reader sees it: the first `size` bytes of its `path`. */
export async function entryData(entry: SpoolEntry): Promise<Buffer> {
  return (await readFile(entry.path)).subarray(0, entry.size);
}

/**
 * Replaces what follows an entry's data with `text` where its sidecar was (keeping a well-formed footer),
 * or writes `text` as the `meta.json` of an entry in the directory layout: an entry whose sidecar cannot be
 * read back.
 */
export async function damageSidecar(entryPath: string, text: string): Promise<void> {
  if ((await stat(entryPath)).isDirectory()) {
    await writeFile(path.join(entryPath, 'meta.json'), text);
    return;
  }
  const bytes = await readFile(entryPath);
  const sidecarLength = bytes.readUInt32BE(bytes.length - 12);
  const data = bytes.subarray(0, bytes.length - 12 - sidecarLength);
  const json = Buffer.from(text);
  const footer = Buffer.alloc(12);
  footer.writeUInt32BE(json.length, 0);
  footer.write('inletsp2', 4, 'latin1');
  await writeFile(entryPath, Buffer.concat([data, json, footer]));
}

/** Cuts an entry's file to its first `length` bytes. */
export async function truncateEntry(entryPath: string, length: number): Promise<void> {
  const handle = await open(entryPath, 'r+');
  try {
    await handle.truncate(length);
  } finally {
    await handle.close();
  }
}

export interface OldEntry {
  id: string;
  name: string;
  data: Buffer;
  meta?: Record<string, string>;
  receivedAt?: Date;
}

/**
 * Writes an entry as versions before the one-file layout did: `<state>/<id>/data` and `<state>/<id>/meta.json`
 * (the sidecar's fields and their JSON as spool.ts wrote them then).
 */
export async function writeDirectoryEntry(spoolDir: string, state: string, entry: OldEntry): Promise<void> {
  const dir = path.join(spoolDir, state, entry.id);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'data'), entry.data);
  await writeFile(
    path.join(dir, 'meta.json'),
    JSON.stringify({
      name: entry.name,
      size: entry.data.length,
      sha256: createHash('sha256').update(entry.data).digest('hex'),
      receivedAt: (entry.receivedAt ?? new Date()).toISOString(),
      meta: entry.meta ?? {},
    }),
  );
}
