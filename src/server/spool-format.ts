/**
 * How a spool entry is stored on disk. Two layouts, told apart by what `<state>/<id>` is:
 *
 * - a file (written since 2026-12): the bytes as received, then the sidecar as JSON, then a 12-byte footer:
 *   the sidecar's length in bytes (uint32, big-endian) and the 8 ASCII bytes `inletsp2`. Data and sidecar are
 *   one file, so one fsync makes both durable (the sidecar in a file of its own cost a second fsync and the
 *   directory holding both a third, per upload). The data is the file's first `size` bytes, `size` being the
 *   sidecar's; the trailer is written after the body, so the body streams in without knowing its hash first.
 * - a directory (written before): `data`, the bytes as received, and `meta.json`, the sidecar. Entries left
 *   in this layout by an earlier version are still read, claimed, loaded, moved and pruned.
 *
 * In both, the data is the first `size` bytes of the entry's `path`, which is all a reader needs to know.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** What the spool knows about an upload beside its bytes. */
export interface Sidecar {
  name: string;
  size: number;
  sha256: string;
  receivedAt: string;
  meta: Record<string, string>;
}

/** The directory layout's files. */
export const DATA_FILE = 'data';
export const META_FILE = 'meta.json';

const MAGIC = Buffer.from('inletsp2', 'latin1');
const FOOTER_BYTES = 4 + MAGIC.length;
/** A sidecar holds a name of at most 1 KiB and a few fields: anything far larger is damage, not a sidecar. */
const MAX_SIDECAR_BYTES = 1024 * 1024;

/** The bytes written after an upload's body: the sidecar and the footer that finds it. */
export function entryTrailer(sidecar: Sidecar): Buffer {
  const json = Buffer.from(JSON.stringify(sidecar), 'utf8');
  const footer = Buffer.alloc(FOOTER_BYTES);
  footer.writeUInt32BE(json.byteLength, 0);
  MAGIC.copy(footer, 4);
  return Buffer.concat([json, footer]);
}

/**
 * Reads the sidecar of the entry at `entryPath` in either layout, and the path of the file whose first
 * `size` bytes are the data. Throws a plain Error saying what is wrong when the entry is damaged.
 */
export async function readEntryAt(entryPath: string): Promise<{ sidecar: Sidecar; dataPath: string }> {
  const stats = await fs.stat(entryPath);
  if (stats.isDirectory()) {
    const sidecar = parseSidecar(await fs.readFile(path.join(entryPath, META_FILE), 'utf8'));
    return { sidecar, dataPath: path.join(entryPath, DATA_FILE) };
  }
  const handle = await fs.open(entryPath, 'r');
  try {
    const total = (await handle.stat()).size;
    if (total < FOOTER_BYTES) throw new Error(`the entry file is ${total} bytes, too short for its footer`);
    const footer = await readExactly(handle, total - FOOTER_BYTES, FOOTER_BYTES);
    if (!footer.subarray(4).equals(MAGIC)) throw new Error('the entry file does not end with its footer');
    const length = footer.readUInt32BE(0);
    if (length > MAX_SIDECAR_BYTES || length > total - FOOTER_BYTES) {
      throw new Error(`the footer names a sidecar of ${length} bytes, which the file cannot hold`);
    }
    const dataBytes = total - FOOTER_BYTES - length;
    const sidecar = parseSidecar((await readExactly(handle, dataBytes, length)).toString('utf8'));
    if (sidecar.size !== dataBytes) {
      throw new Error(`the sidecar says ${sidecar.size} bytes of data, the file holds ${dataBytes}`);
    }
    return { sidecar, dataPath: entryPath };
  } finally {
    await handle.close();
  }
}

async function readExactly(handle: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let offset = 0;
  while (offset < length) {
    const { bytesRead } = await handle.read(buffer, offset, length - offset, position + offset);
    if (bytesRead === 0) throw new Error('the entry file ended early');
    offset += bytesRead;
  }
  return buffer;
}

export function parseSidecar(text: string): Sidecar {
  const value = JSON.parse(text) as Partial<Sidecar>;
  const meta = value.meta;
  if (
    typeof value.name !== 'string' ||
    typeof value.size !== 'number' ||
    typeof value.sha256 !== 'string' ||
    typeof value.receivedAt !== 'string' ||
    Number.isNaN(Date.parse(value.receivedAt)) ||
    typeof meta !== 'object' ||
    meta === null ||
    !Object.values(meta).every((v) => typeof v === 'string')
  ) {
    throw new Error('the sidecar is missing fields');
  }
  return value as Sidecar;
}
