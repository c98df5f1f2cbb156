import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { FormatError, SourceError } from '../errors.js';
import type { FormatName } from '../model/contract.js';
import { type Compression, type DeclaredCompression, detectCompression } from './detect.js';
import { compressionRatioError, expandsTooMuch } from './ratio.js';
import { unzipSingleEntry } from './zip/single-entry.js';

const HEAD_BYTES = 4096;

export interface DecodedSource {
  readonly compression: Compression;
  /** The first decompressed bytes (up to 4 KiB), for format detection. */
  readonly head: Buffer;
  /** All decompressed bytes, head included. */
  readonly chunks: AsyncIterable<Buffer>;
  /** For a zip: the name of its one entry (what format detection should look at). */
  readonly entryName?: string;
}

export interface DecoderOptions {
  readonly maxDecompressedBytes: number;
  /** Decompressed bytes per compressed byte past which the file is refused (limits.maxCompressionRatio). */
  readonly maxCompressionRatio: number;
  readonly source: string;
  /** The object's name, for compression known only by extension (`.br`) and to tell XLSX from zip. */
  readonly name?: string;
  /** The pipeline's `compression:`; default `auto`. */
  readonly compression?: DeclaredCompression;
  /** The pipeline's `format:`; an XLSX workbook is a zip that must not be unzipped as compression. */
  readonly format?: FormatName;
}

const CODECS = {
  gzip: { create: createGunzip, code: 'corrupt_gzip', label: 'gzip' },
  deflate: { create: createInflate, code: 'corrupt_deflate', label: 'deflate (zlib)' },
  brotli: { create: createBrotliDecompress, code: 'corrupt_brotli', label: 'brotli' },
} as const;

/**
 * Reads an object once: counts and hashes the raw bytes as they stream past (the content hash
 * is part of the file's identity), detects compression (gzip, zlib deflate and zip by their magic
 * bytes, brotli by name or declaration) and decompresses with a cap, so that a small bomb is
 * stopped at the cap instead of filling memory or disk.
 */
export class SourceDecoder {
  rawBytes = 0;
  decodedBytes = 0;
  private readonly hash = createHash('sha256');
  private digest: string | undefined;
  private entryName: string | undefined;

  constructor(
    private readonly raw: AsyncIterable<Buffer>,
    private readonly options: DecoderOptions,
  ) {}

  /** The SHA-256 of the raw bytes; available once every chunk has been read. */
  get sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }

  async open(): Promise<DecodedSource> {
    const raw = await readHead(this.counted(), HEAD_BYTES);
    const { name = '', compression: declared = 'auto', format = 'auto' } = this.options;
    const compression = detectCompression(raw.head, name, declared, format);
    const decoded = await readHead(this.capped(this.decompress(compression, raw.chunks)), HEAD_BYTES);
    return {
      compression,
      head: decoded.head.subarray(0, HEAD_BYTES),
      chunks: decoded.chunks,
      ...(this.entryName === undefined ? {} : { entryName: this.entryName }),
    };
  }

  private decompress(compression: Compression, raw: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    switch (compression) {
      case 'none':
        return raw;
      case 'zip':
        return unzipSingleEntry(raw, {
          source: this.options.source,
          maxCompressionRatio: this.options.maxCompressionRatio,
          onEntry: (name) => {
            this.entryName = name;
          },
        });
      default:
        return this.inflate(raw, compression);
    }
  }

  private async *counted(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of this.raw) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        this.hash.update(buffer);
        this.rawBytes += buffer.length;
        yield buffer;
      }
    } catch (error) {
      if (error instanceof FormatError || error instanceof SourceError) throw error;
      throw new SourceError(
        'source_read_failed',
        `Reading ${this.options.source} failed after ${this.rawBytes} bytes: ${(error as Error).message}`,
        { cause: error, location: { source: this.options.source } },
      );
    }
  }

  private async *inflate(
    raw: AsyncIterable<Buffer>,
    compression: keyof typeof CODECS,
  ): AsyncGenerator<Buffer> {
    const codec = CODECS[compression];
    const inflater = codec.create({ chunkSize: 256 * 1024 });
    const out = pipeline(Readable.from(raw, { objectMode: false }), inflater, () => {});
    const maxRatio = this.options.maxCompressionRatio;
    let produced = 0;
    try {
      for await (const chunk of out) {
        produced += (chunk as Buffer).length;
        // bytesWritten counts the compressed bytes the codec has consumed, not those read ahead of it.
        if (expandsTooMuch(produced, inflater.bytesWritten, maxRatio)) {
          throw compressionRatioError(
            `The ${codec.label} data`,
            maxRatio,
            inflater.bytesWritten,
            produced,
            this.options.source,
          );
        }
        yield chunk as Buffer;
      }
    } catch (error) {
      if (error instanceof FormatError || error instanceof SourceError) throw error;
      const truncated = (error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR';
      throw new FormatError(
        codec.code,
        truncated
          ? `The ${codec.label} data ends early (truncated after ${this.rawBytes} compressed bytes). Send the complete file again.`
          : `The ${codec.label} data is corrupt (${(error as Error).message}). Send the file again or send it uncompressed.`,
        { cause: error, location: { source: this.options.source } },
      );
    } finally {
      out.destroy();
    }
  }

  private async *capped(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const cap = this.options.maxDecompressedBytes;
    for await (const chunk of chunks) {
      this.decodedBytes += chunk.length;
      if (this.decodedBytes > cap) {
        throw new FormatError(
          'decompressed_too_large',
          `The file expands past the limit of ${cap} bytes when decompressed (limits.maxDecompressedBytes). ` +
            'It may be a compression bomb; if it is genuine, raise the limit for this pipeline.',
          { location: { source: this.options.source } },
        );
      }
      yield chunk;
    }
  }
}

/**
 * Reads chunks from the front of `source` until there are at least `bytes` (fewer if it ends first), for a
 * look before deciding how to read on: `head` is those bytes, `chunks` yields them once and then the rest.
 */
async function readHead(
  source: AsyncIterable<Buffer>,
  bytes: number,
): Promise<{ head: Buffer; chunks: AsyncIterable<Buffer> }> {
  const iterator = source[Symbol.asyncIterator]();
  const read: Buffer[] = [];
  let readBytes = 0;
  while (readBytes < bytes) {
    const next = await iterator.next();
    if (next.done) break;
    read.push(next.value);
    readBytes += next.value.length;
  }
  const head = Buffer.concat(read);
  const chunks = async function* () {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  };
  return { head, chunks: chunks() };
}
