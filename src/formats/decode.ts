import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FormatError, SourceError } from '../errors.js';
import { type Compression, detectCompression } from './detect.js';

const HEAD_BYTES = 4096;

export interface DecodedSource {
  readonly compression: Compression;
  /** The first decompressed bytes (up to 4 KiB), for format detection. */
  readonly head: Buffer;
  /** All decompressed bytes, head included. */
  readonly chunks: AsyncIterable<Buffer>;
}

/**
 * Reads an object once: counts and hashes the raw bytes as they stream past (the content hash
 * is part of the file's identity), detects gzip by its magic bytes and decompresses with a cap,
 * so that a small bomb is stopped at the cap instead of filling memory or disk.
 */
export class SourceDecoder {
  rawBytes = 0;
  decodedBytes = 0;
  private readonly hash = createHash('sha256');
  private digest: string | undefined;

  constructor(
    private readonly raw: AsyncIterable<Buffer>,
    private readonly options: { readonly maxDecompressedBytes: number; readonly source: string },
  ) {}

  /** The SHA-256 of the raw bytes; available once every chunk has been read. */
  get sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }

  async open(): Promise<DecodedSource> {
    const rawIterator = this.counted()[Symbol.asyncIterator]();
    const rawHead: Buffer[] = [];
    let rawHeadBytes = 0;
    while (rawHeadBytes < HEAD_BYTES) {
      const next = await rawIterator.next();
      if (next.done) break;
      rawHead.push(next.value);
      rawHeadBytes += next.value.length;
    }
    const first = Buffer.concat(rawHead);
    const rest = async function* () {
      if (first.length > 0) yield first;
      for (;;) {
        const next = await rawIterator.next();
        if (next.done) return;
        yield next.value;
      }
    };
    const compression = detectCompression(first);
    const decoded = this.capped(compression === 'gzip' ? this.gunzip(rest()) : rest());
    const decodedIterator = decoded[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let headBytes = 0;
    while (headBytes < HEAD_BYTES) {
      const next = await decodedIterator.next();
      if (next.done) break;
      head.push(next.value);
      headBytes += next.value.length;
    }
    const headBuffer = Buffer.concat(head);
    const chunks = async function* () {
      if (headBuffer.length > 0) yield headBuffer;
      for (;;) {
        const next = await decodedIterator.next();
        if (next.done) return;
        yield next.value;
      }
    };
    return { compression, head: headBuffer.subarray(0, HEAD_BYTES), chunks: chunks() };
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

  private async *gunzip(raw: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    const out = pipeline(Readable.from(raw, { objectMode: false }), gunzip, () => {});
    try {
      for await (const chunk of out) yield chunk as Buffer;
    } catch (error) {
      if (error instanceof FormatError || error instanceof SourceError) throw error;
      const truncated = (error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR';
      throw new FormatError(
        'corrupt_gzip',
        truncated
          ? `The gzip data ends early (truncated after ${this.rawBytes} compressed bytes). Send the complete file again.`
          : `The gzip data is corrupt (${(error as Error).message}). Send the file again or send it uncompressed.`,
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
