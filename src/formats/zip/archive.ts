/**
 * A zip archive read through its central directory, with random access to its entries: what an XLSX
 * workbook needs (its small parts are read wherever they lie, its sheet streamed). Every entry is
 * inflated with the same checks as a single zipped file: a ratio limit, a total decompressed-size
 * cap shared by all entries, and its CRC-32 and size.
 */
import { inflateRawSync } from 'node:zlib';
import { ByteReader } from '../byte-reader.js';
import type { RandomAccessInput } from '../random-access.js';
import { checkedEntry, inflateRawFrom } from './inflate.js';
import {
  CENTRAL_HEADER,
  CENTRAL_HEADER_BYTES,
  checkReadable,
  DEFLATED,
  END_BYTES,
  END_OF_CENTRAL_DIRECTORY,
  entryName,
  LOCAL_HEADER,
  LOCAL_HEADER_BYTES,
  ZIP64_END_OF_CENTRAL_DIRECTORY,
  ZIP64_LOCATOR,
  zip64Sizes,
  zipError,
} from './records.js';

export interface ArchiveEntry {
  readonly name: string;
  readonly flags: number;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

export interface ArchiveOptions {
  readonly source: string;
  /** What the archive is, for messages: `The XLSX workbook`. */
  readonly what: string;
  /** Decompressed bytes all entries together may produce. */
  readonly maxDecompressedBytes: number;
  /** Decompressed bytes per compressed byte any one entry may produce (limits.maxCompressionRatio). */
  readonly maxCompressionRatio: number;
  readonly maxEntries?: number;
}

const MAX_COMMENT_BYTES = 0xffff;
const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;
const RANGED_READ_BYTES = 1 << 20;
/** Parts that inflate to at most this many bytes (as their directory entry says) are inflated in one call. */
export const SMALL_PART_BYTES = 1 << 20;

export class ZipArchive {
  private inflated = 0;

  private constructor(
    private readonly input: RandomAccessInput,
    readonly entries: ReadonlyMap<string, ArchiveEntry>,
    private readonly options: ArchiveOptions,
  ) {}

  static async open(input: RandomAccessInput, options: ArchiveOptions): Promise<ZipArchive> {
    const { source, what } = options;
    const damaged = (detail: string) =>
      zipError(
        'corrupt_zip',
        `${what} is truncated or damaged: ${detail}. Send the complete file again.`,
        source,
      );
    if (input.size < END_BYTES) throw damaged('it is too short to be a zip archive');
    const tailStart = Math.max(0, input.size - END_BYTES - MAX_COMMENT_BYTES);
    const tail = await input.read(tailStart, input.size);
    let at = tail.length - END_BYTES;
    while (at >= 0 && tail.readUInt32LE(at) !== END_OF_CENTRAL_DIRECTORY) at--;
    if (at < 0) throw damaged('its end-of-directory record is missing');
    let count = tail.readUInt16LE(at + 10);
    let directorySize = tail.readUInt32LE(at + 12);
    let directoryOffset = tail.readUInt32LE(at + 16);
    if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
      const locatorAt = at - 20;
      if (locatorAt < 0 || tail.readUInt32LE(locatorAt) !== ZIP64_LOCATOR)
        throw damaged('its zip64 locator is missing');
      const recordOffset = Number(tail.readBigUInt64LE(locatorAt + 8));
      const record = await input.read(recordOffset, recordOffset + 56);
      if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_END_OF_CENTRAL_DIRECTORY) {
        throw damaged('its zip64 end-of-directory record is missing');
      }
      count = Number(record.readBigUInt64LE(32));
      directorySize = Number(record.readBigUInt64LE(40));
      directoryOffset = Number(record.readBigUInt64LE(48));
    }
    const maxEntries = options.maxEntries ?? 10_000;
    if (count > maxEntries || directorySize > MAX_DIRECTORY_BYTES) {
      throw zipError(
        'zip_too_many_entries',
        `${what} lists ${count} parts, more than the ${maxEntries} Inlet accepts.`,
        source,
      );
    }
    if (directoryOffset + directorySize > input.size)
      throw damaged('its directory points past the end of the file');
    const directory = await input.read(directoryOffset, directoryOffset + directorySize);
    const entries = new Map<string, ArchiveEntry>();
    let offset = 0;
    for (let i = 0; i < count; i++) {
      if (
        offset + CENTRAL_HEADER_BYTES > directory.length ||
        directory.readUInt32LE(offset) !== CENTRAL_HEADER
      ) {
        throw damaged('its directory is unreadable');
      }
      const flags = directory.readUInt16LE(offset + 8);
      const nameLength = directory.readUInt16LE(offset + 28);
      const extraLength = directory.readUInt16LE(offset + 30);
      const commentLength = directory.readUInt16LE(offset + 32);
      const nameStart = offset + CENTRAL_HEADER_BYTES;
      const extra = directory.subarray(nameStart + nameLength, nameStart + nameLength + extraLength);
      const sizes = zip64Sizes(
        extra,
        directory.readUInt32LE(offset + 24),
        directory.readUInt32LE(offset + 20),
      );
      let localHeaderOffset = directory.readUInt32LE(offset + 42);
      if (localHeaderOffset === 0xffffffff)
        localHeaderOffset = zip64Offset(extra, directory, offset) ?? localHeaderOffset;
      const name = entryName(directory.subarray(nameStart, nameStart + nameLength), flags);
      entries.set(name, {
        name,
        flags,
        method: directory.readUInt16LE(offset + 10),
        crc: directory.readUInt32LE(offset + 16),
        compressedSize: sizes.compressed,
        uncompressedSize: sizes.uncompressed,
        localHeaderOffset,
      });
      offset = nameStart + nameLength + extraLength + commentLength;
    }
    return new ZipArchive(input, entries, options);
  }

  /**
   * The entry's decompressed bytes, streamed; checked against its CRC-32 and size at the end.
   * `sequential` takes the compressed bytes from the one pass over the file (for the bulk: a sheet);
   * otherwise they are read by range wherever they lie (the small parts, read first whatever their place).
   */
  async *stream(entry: ArchiveEntry, sequential = false): AsyncGenerator<Buffer> {
    const { source, what } = this.options;
    checkReadable({ ...entry, zip64: false }, source, `The part "${entry.name}" of ${lower(what)}`);
    const header = await this.input.read(
      entry.localHeaderOffset,
      entry.localHeaderOffset + LOCAL_HEADER_BYTES,
    );
    if (header.length < LOCAL_HEADER_BYTES || header.readUInt32LE(0) !== LOCAL_HEADER) {
      throw zipError(
        'corrupt_zip',
        `${what} is damaged: the part "${entry.name}" is not where its directory says.`,
        source,
      );
    }
    const start =
      entry.localHeaderOffset + LOCAL_HEADER_BYTES + header.readUInt16LE(26) + header.readUInt16LE(28);
    const end = start + entry.compressedSize;
    if (end > this.input.size) {
      throw zipError(
        'corrupt_zip',
        `${what} is truncated: the part "${entry.name}" ends past the end of the file. Send the complete file again.`,
        source,
      );
    }
    let output: AsyncIterable<Buffer> | undefined;
    let reader: ByteReader;
    let consumed = () => reader.position;
    if (
      !sequential &&
      entry.method === DEFLATED &&
      entry.uncompressedSize <= SMALL_PART_BYTES &&
      entry.compressedSize <= SMALL_PART_BYTES
    ) {
      // A small part (relationships, the workbook, styles, a small workbook's shared strings) in one read,
      // inflated at once: two trips to other threads instead of one per read, write and chunk of output.
      const compressed = await this.input.read(start, end);
      reader = new ByteReader(chunks([compressed]));
      output = inflateWhole(compressed, entry.uncompressedSize);
      if (output !== undefined) consumed = () => compressed.length;
    } else {
      reader = new ByteReader(sequential ? this.input.stream(start, end) : this.ranged(start, end));
    }
    output ??= entry.method === DEFLATED ? inflateRawFrom(reader, entry.compressedSize) : reader.remaining();
    const tally = { produced: 0, crc: 0 };
    yield* checkedEntry(
      output,
      {
        source,
        consumed,
        onChunk: (chunk) => {
          this.inflated += chunk.length;
          if (this.inflated > this.options.maxDecompressedBytes) {
            throw zipError(
              'decompressed_too_large',
              `${what} expands past the limit of ${this.options.maxDecompressedBytes} bytes when decompressed (limits.maxDecompressedBytes). ` +
                'It may be a compression bomb; if it is genuine, raise the limit for this pipeline.',
              source,
            );
          }
        },
        maxRatio: this.options.maxCompressionRatio,
        what: `The part "${entry.name}" of ${lower(what)}`,
        corruptMessage: (error) =>
          `${what} is truncated or damaged: its part "${entry.name}" does not decompress (${error.message}). Send the file again.`,
      },
      tally,
    );
    const { produced, crc } = tally;
    if (produced !== entry.uncompressedSize || crc >>> 0 !== entry.crc >>> 0) {
      throw zipError(
        'corrupt_zip',
        `${what} is damaged: its part "${entry.name}" fails its ${produced !== entry.uncompressedSize ? 'size' : 'CRC-32'} check. Send the file again.`,
        source,
      );
    }
  }

  private async *ranged(start: number, end: number): AsyncGenerator<Buffer> {
    for (let at = start; at < end; at += RANGED_READ_BYTES) {
      yield await this.input.read(at, Math.min(end, at + RANGED_READ_BYTES));
    }
  }

  /** A whole (small) entry as text. */
  async text(entry: ArchiveEntry): Promise<string> {
    const parts: Buffer[] = [];
    for await (const chunk of this.stream(entry)) parts.push(chunk);
    return Buffer.concat(parts).toString('utf8');
  }
}

/** The chunks given, or the failure: an output as a stream would have given it. */
async function* chunks(list: readonly Buffer[], failure?: unknown): AsyncGenerator<Buffer> {
  if (failure !== undefined) throw failure;
  yield* list;
}

/**
 * A small part's bytes inflated in one call, bounded by the size its directory entry declares; undefined
 * when they inflate to more, so that the part is streamed and refused as before (past its declared
 * size, or first past the ratio or the total limit, whichever its streaming meets). zlib's errors go
 * through the output, where the caller's checks name the part.
 */
function inflateWhole(compressed: Buffer, declared: number): AsyncIterable<Buffer> | undefined {
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(compressed, { maxOutputLength: Math.max(1, declared) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return undefined;
    return chunks([], error);
  }
  return chunks(inflated.length === 0 ? [] : [inflated]);
}

/** The local header offset in a zip64 extra field comes after whichever sizes were also too large. */
function zip64Offset(extra: Buffer, directory: Buffer, offset: number): number | undefined {
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const size = extra.readUInt16LE(at + 2);
    if (id === 0x0001) {
      let field = at + 4;
      if (directory.readUInt32LE(offset + 24) === 0xffffffff) field += 8;
      if (directory.readUInt32LE(offset + 20) === 0xffffffff) field += 8;
      return field + 8 <= at + 4 + size ? Number(extra.readBigUInt64LE(field)) : undefined;
    }
    at += 4 + size;
  }
  return undefined;
}

function lower(what: string): string {
  return what.charAt(0).toLowerCase() + what.slice(1);
}
