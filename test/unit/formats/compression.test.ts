import { createHash } from 'node:crypto';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { Zip, ZipDeflate, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../../src/errors.js';
import { SourceDecoder } from '../../../src/formats/decode.js';
import { decompressHead, detectCompression, detectFormat } from '../../../src/formats/detect.js';

const CSV = `id,name\n${Array.from({ length: 2000 }, (_, i) => `${i},name ${i}`).join('\n')}\n`;

async function* chunked(bytes: Uint8Array, size = 1000): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield Buffer.from(bytes.subarray(i, i + size));
}

async function decode(
  bytes: Uint8Array,
  name = 'file',
  options: Partial<ConstructorParameters<typeof SourceDecoder>[1]> = {},
  chunkSize = 1000,
) {
  const decoder = new SourceDecoder(chunked(bytes, chunkSize), {
    maxDecompressedBytes: 1 << 30,
    maxCompressionRatio: 200,
    source: `memory://${name}`,
    name,
    ...options,
  });
  const decoded = await decoder.open();
  const parts: Buffer[] = [];
  for await (const chunk of decoded.chunks) parts.push(chunk);
  return { decoder, decoded, text: Buffer.concat(parts).toString() };
}

async function decodeError(
  bytes: Uint8Array,
  name = 'file',
  chunkSize = 1000,
  options: Partial<ConstructorParameters<typeof SourceDecoder>[1]> = {},
): Promise<FormatError> {
  try {
    await decode(bytes, name, options, chunkSize);
  } catch (error) {
    expect(error).toBeInstanceOf(FormatError);
    return error as FormatError;
  }
  throw new Error('expected a FormatError');
}

/** fflate's streaming Zip writes sizes after the data (a data descriptor), as streaming writers do. */
function streamedZip(files: Record<string, string>): Buffer {
  const parts: Uint8Array[] = [];
  const zip = new Zip((error, data) => {
    if (error) throw error;
    parts.push(data);
  });
  for (const [name, content] of Object.entries(files)) {
    const entry = new ZipDeflate(name, { level: 6 });
    zip.add(entry);
    entry.push(new TextEncoder().encode(content), true);
  }
  zip.end();
  return Buffer.concat(parts);
}

describe('detectCompression', () => {
  it('knows gzip, zlib deflate and zip by their magic bytes and brotli by name', () => {
    expect(detectCompression(gzipSync(CSV))).toBe('gzip');
    expect(detectCompression(deflateSync(CSV))).toBe('deflate');
    expect(detectCompression(zipSync({ 'a.csv': Buffer.from(CSV) }))).toBe('zip');
    expect(detectCompression(brotliCompressSync(CSV), 'orders.csv.br')).toBe('brotli');
    expect(detectCompression(Buffer.from(CSV), 'orders.csv')).toBe('none');
  });

  it('does not mistake text that starts like a zlib header for deflate', () => {
    expect(detectCompression(Buffer.from('x^y,z\n1,2\n'))).toBe('none');
  });

  it('tells an XLSX workbook (a zip) from a zipped file', () => {
    const workbook = zipSync({
      '[Content_Types].xml': Buffer.from('<Types/>'),
      'xl/workbook.xml': Buffer.from('<w/>'),
    });
    expect(detectCompression(workbook, 'upload')).toBe('none');
    expect(detectCompression(workbook, 'book.zip')).toBe('zip');
    expect(detectCompression(zipSync({ 'a.csv': Buffer.from(CSV) }), 'a.xlsx')).toBe('none');
    expect(detectCompression(zipSync({ 'a.csv': Buffer.from(CSV) }), 'a', 'auto', 'xlsx')).toBe('none');
  });

  it('follows a declared compression', () => {
    expect(detectCompression(brotliCompressSync(CSV), 'orders.csv', 'brotli')).toBe('brotli');
    expect(detectCompression(gzipSync(CSV), 'x', 'none')).toBe('none');
  });
});

describe('SourceDecoder', () => {
  it.each([
    ['gzip', gzipSync(CSV), 'a.csv.gz'],
    ['deflate', deflateSync(CSV), 'a.csv.zz'],
    ['brotli', brotliCompressSync(CSV), 'a.csv.br'],
    ['zip', zipSync({ 'orders.csv': Buffer.from(CSV) }), 'a.zip'],
    ['zip', zipSync({ 'orders.csv': Buffer.from(CSV) }, { level: 0 }), 'a.zip'],
    ['zip', streamedZip({ 'orders.csv': CSV }), 'upload'],
  ] as const)('decompresses %s (%#) and hashes the raw bytes', async (compression, bytes, name) => {
    for (const chunkSize of [1, 7, 1000, 1 << 20]) {
      if (chunkSize === 1 && bytes.length > 40_000) continue;
      const { decoder, decoded, text } = await decode(bytes, name, {}, chunkSize);
      expect(decoded.compression).toBe(compression);
      expect(text).toBe(CSV);
      expect(decoder.rawBytes).toBe(bytes.length);
      expect(decoder.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });

  it('names the entry of a zip so its extension decides the format', async () => {
    const { decoded } = await decode(zipSync({ 'events.ndjson': Buffer.from('{"a":1}\n') }), 'upload.zip');
    expect(decoded.entryName).toBe('events.ndjson');
    expect(detectFormat(decoded.head, decoded.entryName ?? '', 'auto')).toBe('ndjson');
  });

  it('refuses a zip with several entries and says what to send instead', async () => {
    for (const zip of [
      zipSync({ 'a.csv': Buffer.from(CSV), 'b.csv': Buffer.from(CSV) }),
      streamedZip({ 'a.csv': CSV, 'b.csv': CSV }),
    ]) {
      const error = await decodeError(zip, 'two.zip');
      expect(error.code).toBe('zip_several_entries');
      expect(error.message).toMatch(
        /more than one file.*Send one file per archive.*or send it gzip-compressed/,
      );
    }
  });

  it('refuses entries with folders or ..', async () => {
    for (const name of ['data/orders.csv', '../orders.csv', 'folder/']) {
      const error = await decodeError(zipSync({ [name]: Buffer.from(CSV) }), 'x.zip');
      expect(error.code).toBe('zip_not_single_file');
      expect(error.message).toMatch(/path|folder/);
    }
  });

  it('refuses an encrypted entry and other compression methods', async () => {
    const zip = Buffer.from(zipSync({ 'a.csv': Buffer.from(CSV) }));
    const encrypted = Buffer.from(zip);
    encrypted.writeUInt16LE(encrypted.readUInt16LE(6) | 1, 6);
    expect((await decodeError(encrypted, 'x.zip')).code).toBe('zip_encrypted');
    const bzip2 = Buffer.from(zip);
    bzip2.writeUInt16LE(12, 8);
    const error = await decodeError(bzip2, 'x.zip');
    expect(error.code).toBe('zip_unsupported');
    expect(error.message).toMatch(/bzip2.*deflate/);
  });

  it('refuses a truncated zip, a damaged entry and a wrong CRC', async () => {
    const zip = Buffer.from(zipSync({ 'a.csv': Buffer.from(CSV) }));
    expect((await decodeError(zip.subarray(0, zip.length - 30), 'x.zip')).code).toBe('corrupt_zip');
    expect((await decodeError(zip.subarray(0, 200), 'x.zip')).message).toMatch(/ends early|truncated/);
    const badCrc = Buffer.from(zip);
    badCrc.writeUInt32LE(badCrc.readUInt32LE(14) ^ 1, 14);
    expect((await decodeError(badCrc, 'x.zip')).message).toMatch(/CRC-32/);
    const streamed = streamedZip({ 'a.csv': CSV });
    expect((await decodeError(streamed.subarray(0, streamed.length - 60), 'x.zip')).code).toBe('corrupt_zip');
  });

  it('refuses an entry that expands past the ratio limit, and stops at the decompressed-size cap', async () => {
    const bomb = zipSync({ 'a.csv': Buffer.alloc(20_000_000, 0x41) });
    const error = await decodeError(bomb, 'bomb.zip');
    expect(error.code).toBe('compression_ratio');
    expect(error.message).toMatch(/200 times.*limits\.maxCompressionRatio/);
    const capped = new SourceDecoder(chunked(zipSync({ 'a.csv': Buffer.from(CSV) })), {
      maxDecompressedBytes: 1000,
      maxCompressionRatio: 200,
      source: 'memory://x',
      name: 'x.zip',
    });
    await expect(async () => {
      for await (const _ of (await capped.open()).chunks);
    }).rejects.toMatchObject({ code: 'decompressed_too_large' });
  });

  describe('the expansion-ratio limit (B20)', () => {
    // 64 MiB of blank lines: gzip and deflate shrink it about 1000x, brotli far more.
    const blanks = Buffer.alloc(64 << 20, 0x0a);
    const bombs = [
      ['gzip', gzipSync(blanks), 'blank.csv'],
      ['deflate', deflateSync(blanks), 'blank.csv'],
      ['brotli', brotliCompressSync(blanks), 'blank.csv.br'],
      ['zip', Buffer.from(zipSync({ 'blank.csv': blanks })), 'blank.zip'],
    ] as const;

    for (const [kind, bomb, name] of bombs) {
      it(`refuses ${kind} past 200x early, while it streams, with compression_ratio`, async () => {
        expect(bomb.length * 200).toBeLessThan(blanks.length);
        const decoder = new SourceDecoder(chunked(bomb, 64 * 1024), {
          maxDecompressedBytes: 1 << 30,
          maxCompressionRatio: 200,
          source: `memory://${name}`,
          name,
        });
        const error = await (async () => {
          for await (const _ of (await decoder.open()).chunks);
        })().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(FormatError);
        expect(error).toMatchObject({ code: 'compression_ratio', location: { source: `memory://${name}` } });
        expect((error as FormatError).message).toMatch(/200 times its compressed size.*maxCompressionRatio/);
        // Refused after a few MiB, not after reading the whole 64 MiB.
        expect(decoder.decodedBytes).toBeLessThan(16 << 20);
      });
    }

    it('lets a pipeline raise the limit, and passes real data that compresses well', async () => {
      const [, gzipBomb] = bombs[0];
      const raised = await decode(gzipBomb, 'blank.csv', { maxCompressionRatio: 5000 }, 64 * 1024);
      expect(raised.text.length).toBe(blanks.length);
      // Repetitive but genuine CSV (about 30x) passes the default.
      const repetitive = Buffer.from(
        `id,status\n${Array.from({ length: 200_000 }, (_, i) => `${i % 1000},shipped`).join('\n')}\n`,
      );
      const { text } = await decode(gzipSync(repetitive), 'r.csv', {}, 64 * 1024);
      expect(text).toBe(repetitive.toString());
    });

    it('judges no ratio below 1 MiB of output, so a small file of blanks is no bomb', async () => {
      const small = gzipSync(Buffer.alloc(1 << 20, 0x0a));
      const { text } = await decode(small, 'small.csv', {}, 64 * 1024);
      expect(text.length).toBe(1 << 20);
    });
  });

  it('reports truncated deflate and brotli data clearly', async () => {
    const deflated = deflateSync(CSV);
    const error = await decodeError(deflated.subarray(0, deflated.length - 20), 'a.csv');
    expect(error).toMatchObject({ code: 'corrupt_deflate' });
    expect(error.message).toMatch(/ends early/);
    const brotli = brotliCompressSync(CSV);
    expect(await decodeError(brotli.subarray(0, brotli.length - 20), 'a.csv.br')).toMatchObject({
      code: 'corrupt_brotli',
    });
  });

  it('leaves a raw deflate stream (no zlib header) to be judged as content', async () => {
    const { decoded } = await decode(deflateRawSync(CSV), 'a.csv');
    expect(decoded.compression).toBe('none');
  });
});

describe('decompressHead (upload sniffing)', () => {
  it('sees the first bytes of the content of every compression', () => {
    for (const [bytes, name] of [
      [gzipSync(CSV), 'a.csv'],
      [deflateSync(CSV), 'a.csv'],
      [brotliCompressSync(CSV), 'a.csv.br'],
      [zipSync({ 'inner.csv': Buffer.from(CSV) }), 'a.zip'],
    ] as const) {
      const head = decompressHead(bytes.subarray(0, 8192), name);
      expect(
        Buffer.from(head.content ?? [])
          .toString()
          .slice(0, 10),
      ).toBe('id,name\n0,');
    }
    expect(decompressHead(zipSync({ 'inner.csv': Buffer.from(CSV) }), 'a.zip').name).toBe('inner.csv');
  });
});
