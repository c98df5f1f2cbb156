import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { SMALL_PART_BYTES, ZipArchive } from '../../../src/formats/zip/archive.js';
import { memoryRandomAccess } from '../../harness/sources.js';

/**
 * A zip's small parts (up to SMALL_PART_BYTES inflated) are read in one read and inflated in one call,
 * larger ones streamed: both give the same bytes and refuse a damaged part the same way.
 */

function open(bytes: Buffer, maxCompressionRatio = 1e6): Promise<ZipArchive> {
  return ZipArchive.open(memoryRandomAccess(bytes, 4096), {
    source: 'test.xlsx',
    what: 'The XLSX workbook',
    maxDecompressedBytes: 1e9,
    maxCompressionRatio,
  });
}

async function read(archive: ZipArchive, name: string, sequential = false): Promise<Buffer> {
  const entry = archive.entries.get(name);
  if (entry === undefined) throw new Error(`no ${name}`);
  const parts: Buffer[] = [];
  for await (const chunk of archive.stream(entry, sequential)) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Varied bytes that deflate only somewhat: the parts' sizes stay near what they declare. */
function text(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    // Math.imul: the plain product needs more bits than a double holds, and would lose the low ones.
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = 0x41 + ((x >>> 16) % 26);
  }
  return out;
}

const PARTS = {
  'empty.xml': Buffer.alloc(0),
  'small.xml': text(3_000, 1),
  'edge.xml': text(SMALL_PART_BYTES, 2),
  'large.xml': text(SMALL_PART_BYTES + 1, 3),
};

/** The central directory record of `name`: where its CRC-32 (+16) and inflated size (+24) are. */
function centralRecord(zip: Buffer, name: string): number {
  const at = zip.indexOf(Buffer.concat([Buffer.from([0x50, 0x4b, 0x01, 0x02])]));
  for (let i = at; i >= 0; i = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), i + 4)) {
    const length = zip.readUInt16LE(i + 28);
    if (zip.toString('latin1', i + 46, i + 46 + length) === name) return i;
  }
  throw new Error(`no directory record for ${name}`);
}

describe('a zip archive’s parts, small and large', () => {
  it('gives every part its bytes, whole or streamed, by range or in the pass', async () => {
    const archive = await open(Buffer.from(zipSync(PARTS)));
    for (const [name, bytes] of Object.entries(PARTS)) {
      expect((await read(archive, name)).equals(bytes)).toBe(true);
      expect((await read(archive, name, true)).equals(bytes)).toBe(true);
    }
  });

  it('refuses a small part whose deflate data is damaged, naming it', async () => {
    const zip = Buffer.from(zipSync({ 'small.xml': PARTS['small.xml'] }));
    const record = centralRecord(zip, 'small.xml');
    const data = 30 + zip.readUInt16LE(26) + zip.readUInt16LE(28);
    zip.fill(0xff, data + 10, data + 40);
    expect(record).toBeGreaterThan(data);
    await expect(read(await open(zip), 'small.xml')).rejects.toMatchObject({
      code: 'corrupt_zip',
      message: expect.stringMatching(/part "small.xml" does not decompress/),
    });
  });

  it('refuses a small part that inflates to more or less than it declares, or to other bytes', async () => {
    const zip = Buffer.from(zipSync({ 'small.xml': PARTS['small.xml'] }));
    const record = centralRecord(zip, 'small.xml');
    for (const [offset, value, check] of [
      [24, 2_000, 'size'],
      [24, 4_000, 'size'],
      [16, 12_345, 'CRC-32'],
    ] as const) {
      const lying = Buffer.from(zip);
      lying.writeUInt32LE(value, record + offset);
      await expect(read(await open(lying), 'small.xml')).rejects.toMatchObject({
        code: 'corrupt_zip',
        message: expect.stringContaining(`fails its ${check} check`),
      });
    }
  });

  it('judges the compression ratio as before: past 1 MiB of output, so never for a small part', async () => {
    const zeros = {
      'zeros.xml': Buffer.alloc(SMALL_PART_BYTES),
      'more.xml': Buffer.alloc(SMALL_PART_BYTES * 2),
    };
    const archive = await open(Buffer.from(zipSync(zeros)), 100);
    expect((await read(archive, 'zeros.xml')).equals(zeros['zeros.xml'])).toBe(true);
    await expect(read(archive, 'more.xml')).rejects.toMatchObject({ code: 'compression_ratio' });
  });

  it('streams a part whose directory says it is small but which inflates past that, and refuses it', async () => {
    const zip = Buffer.from(zipSync({ 'bomb.xml': Buffer.alloc(SMALL_PART_BYTES * 4) }));
    zip.writeUInt32LE(1_000, centralRecord(zip, 'bomb.xml') + 24);
    await expect(read(await open(zip, 1e6), 'bomb.xml')).rejects.toMatchObject({ code: 'corrupt_zip' });
    await expect(read(await open(zip, 100), 'bomb.xml')).rejects.toMatchObject({
      code: 'compression_ratio',
    });
  });
});
