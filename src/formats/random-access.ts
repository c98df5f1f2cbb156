/**
 * Random access to an object for formats whose index sits at the end (Parquet's footer, a zip's
 * central directory), while still reading it once from start to end so that the content hash
 * covers every byte and memory stays flat.
 *
 * - `ranged`: the source offers ranged reads (files, S3, the upload spool) and the bytes are not
 *   compressed. Indexes are read by range; the bulk (row groups, the sheet) comes from the one
 *   sequential pass the engine is making anyway, in file order. A part that lies behind the pass
 *   (an unusual layout) is read by range instead.
 * - `spooled`: otherwise (a compressed Parquet file, a source without ranges) the decompressed bytes
 *   are written to a temporary file, bounded by `limits.maxDecompressedBytes` like any
 *   decompression, and read back from there; the file is removed when the ingestion ends.
 */

import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FormatError, SourceError } from '../errors.js';
import type { ObjectSource } from '../model/ingestion.js';
import type { DecodedSource } from './decode.js';

export interface RandomAccessInput {
  readonly mode: 'ranged' | 'spooled';
  readonly size: number;
  /** Bytes `[start, end)`, for small parts such as indexes. */
  read(start: number, end: number): Promise<Buffer>;
  /** Bytes `[start, end)` in order, from the sequential pass where possible; for the bulk of the data. */
  stream(start: number, end: number): AsyncGenerator<Buffer>;
  /** Reads what is left of the object (the content hash covers every byte) and releases everything. */
  finish(): Promise<void>;
  /** Releases everything without reading on (the ingestion failed). Safe to call more than once. */
  close(): Promise<void>;
}

const SPOOL_READ_BYTES = 1 << 20;

export async function openRandomAccess(
  decoded: DecodedSource,
  source: ObjectSource,
): Promise<RandomAccessInput> {
  if (
    decoded.compression === 'none' &&
    typeof source.openRange === 'function' &&
    source.size !== undefined &&
    source.size > 0
  ) {
    return new RangedInput(decoded.chunks, source, source.size);
  }
  return spool(decoded.chunks, source.uri);
}

class RangedInput implements RandomAccessInput {
  readonly mode = 'ranged';
  private readonly iterator: AsyncIterator<Buffer>;
  /** Offset of `pending[0]` (or of the next chunk) in the object. */
  private position = 0;
  private pending: Buffer | undefined;
  private closed = false;

  constructor(
    chunks: AsyncIterable<Buffer>,
    private readonly source: ObjectSource,
    readonly size: number,
  ) {
    this.iterator = chunks[Symbol.asyncIterator]();
  }

  async read(start: number, end: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.ranged(start, end)) parts.push(chunk);
    return Buffer.concat(parts);
  }

  async *stream(start: number, end: number): AsyncGenerator<Buffer> {
    if (end <= start) return;
    if (end > this.size) throw shorterThanSaid(this.source, this.size, end);
    if (start < this.position) {
      yield* this.ranged(start, end);
      return;
    }
    while (this.position < end) {
      const chunk = this.pending ?? (await this.nextChunk());
      this.pending = undefined;
      if (chunk === undefined) throw shorterThanSaid(this.source, this.position, end);
      const chunkStart = this.position;
      const chunkEnd = chunkStart + chunk.length;
      if (chunkEnd <= start) {
        this.position = chunkEnd;
        continue;
      }
      const from = Math.max(start, chunkStart) - chunkStart;
      const to = Math.min(end, chunkEnd) - chunkStart;
      if (to < chunk.length) this.pending = chunk.subarray(to);
      this.position = chunkStart + to;
      yield chunk.subarray(from, to);
    }
  }

  async finish(): Promise<void> {
    this.pending = undefined;
    while ((await this.nextChunk()) !== undefined) {}
    this.closed = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.iterator.return?.();
  }

  private async nextChunk(): Promise<Buffer | undefined> {
    const next = await this.iterator.next();
    return next.done ? undefined : next.value;
  }

  private async *ranged(start: number, end: number): AsyncGenerator<Buffer> {
    if (end <= start) return;
    if (end > this.size) throw shorterThanSaid(this.source, this.size, end);
    let body: Readable;
    try {
      body = await (this.source.openRange as NonNullable<ObjectSource['openRange']>)(start, end);
    } catch (error) {
      throw rangeFailed(this.source, start, end, error);
    }
    const wanted = end - start;
    let got = 0;
    try {
      for await (const chunk of body) {
        const buffer = chunk as Buffer;
        got += buffer.length;
        // Checked before a byte is handed on: a source that ignored the range (a server answering a ranged
        // GET with the whole object) would otherwise give the reader the wrong bytes to parse.
        if (got > wanted) throw rangeIgnored(this.source, start, end, got);
        yield buffer;
      }
    } catch (error) {
      throw rangeFailed(this.source, start, end, error);
    } finally {
      body.destroy();
    }
    if (got !== wanted) throw shorterThanSaid(this.source, start + got, end);
  }
}

async function spool(chunks: AsyncIterable<Buffer>, uri: string): Promise<RandomAccessInput> {
  let dir: string | undefined;
  let handle: FileHandle | undefined;
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await handle?.close().catch(() => {});
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  };
  try {
    dir = await mkdtemp(join(tmpdir(), 'inlet-spool-'));
    handle = await open(join(dir, 'object'), 'w+', 0o600);
    let size = 0;
    for await (const chunk of chunks) {
      let written = 0;
      while (written < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, written, chunk.length - written, size + written);
        written += bytesWritten;
      }
      size += chunk.length;
    }
    const file = handle;
    const read = async (start: number, end: number): Promise<Buffer> => {
      const length = Math.max(0, Math.min(end, size) - start);
      const buffer = Buffer.allocUnsafe(length);
      let at = 0;
      while (at < length) {
        const { bytesRead } = await file.read(buffer, at, length - at, start + at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      if (at < end - start) throw shorterThanSaid({ uri }, Math.min(size, start + at), end);
      return buffer;
    };
    return {
      mode: 'spooled',
      size,
      read,
      async *stream(start: number, end: number) {
        // Refused before a byte is handed on, as the ranged input does: the range cannot be read whole.
        if (end > size && end > start) throw shorterThanSaid({ uri }, size, end);
        for (let at = start; at < end; at += SPOOL_READ_BYTES)
          yield await read(at, Math.min(end, at + SPOOL_READ_BYTES));
      },
      finish: release,
      close: release,
    };
  } catch (error) {
    await release();
    if (error instanceof FormatError || error instanceof SourceError) throw error;
    throw new SourceError(
      'spool_failed',
      `Could not spool ${uri} to a temporary file: ${(error as Error).message}. Check the free space and permissions of the temporary directory (TMPDIR).`,
      {
        cause: error,
        location: { source: uri },
      },
    );
  }
}

function shorterThanSaid(source: Pick<ObjectSource, 'uri'>, at: number, wanted: number): FormatError {
  return new FormatError(
    'truncated_file',
    `The file ends at byte ${at}, before byte ${wanted} that its own index points to: it is truncated or damaged. Send the complete file again.`,
    { location: { source: source.uri } },
  );
}

function rangeIgnored(source: ObjectSource, start: number, end: number, got: number): SourceError {
  return new SourceError(
    'source_read_failed',
    `Reading bytes ${start}-${end} of ${source.uri} gave ${got} bytes or more, where ${end - start} were asked for: the source ignored the range. Check that the storage endpoint answers ranged GETs (HTTP Range) with the range alone.`,
    { location: { source: source.uri } },
  );
}

function rangeFailed(source: ObjectSource, start: number, end: number, error: unknown): SourceError {
  if (error instanceof SourceError || error instanceof FormatError) return error as SourceError;
  return new SourceError(
    'source_read_failed',
    `Reading bytes ${start}-${end} of ${source.uri} failed: ${(error as Error).message}`,
    { cause: error, location: { source: source.uri } },
  );
}
