/**
 * A ZIP archive holding exactly one file, read as it streams past (no seeking, so it works for
 * uploads and S3 bodies alike): the local header, the entry's data inflated with a ratio limit and
 * checked against its CRC-32 and sizes, then the central directory, which must list that one entry.
 * Anything else (several entries, folders, encryption, methods other than stored and deflate) is
 * refused with a message that says what to send instead.
 */
import { ByteReader } from '../byte-reader.js';
import { checkedEntry, inflateRawFrom } from './inflate.js';
import {
  CENTRAL_HEADER,
  CENTRAL_HEADER_BYTES,
  checkReadable,
  DATA_DESCRIPTOR,
  DEFLATED,
  END_BYTES,
  END_OF_CENTRAL_DIRECTORY,
  type EntryHeader,
  FLAG_DATA_DESCRIPTOR,
  LOCAL_HEADER,
  LOCAL_HEADER_BYTES,
  namePathProblem,
  parseLocalHeader,
  ZIP64_END_OF_CENTRAL_DIRECTORY,
  ZIP64_LOCATOR,
  zipError,
} from './records.js';

const ONE_FILE =
  'Send one file per archive (zip a single CSV, TSV, NDJSON, JSON, Parquet or XLSX file without folders), or send it gzip-compressed.';

export interface SingleEntryOptions {
  readonly source: string;
  /** Called with the entry's name once its header is read (format detection looks at its extension). */
  readonly onEntry?: (name: string) => void;
  /** limits.maxCompressionRatio. */
  readonly maxCompressionRatio: number;
}

export async function* unzipSingleEntry(
  raw: AsyncIterable<Buffer>,
  options: SingleEntryOptions,
): AsyncGenerator<Buffer> {
  const { source } = options;
  const reader = new ByteReader(raw);
  const entry = await readLocalHeader(reader, source);
  options.onEntry?.(entry.name);

  const dataStart = reader.position;
  const tally = { produced: 0, crc: 0 };
  const output =
    entry.method === DEFLATED ? inflateRawFrom(reader, entry.compressedSize) : stored(reader, entry, source);
  yield* checkedEntry(
    output,
    {
      source,
      consumed: () => reader.position - dataStart,
      maxRatio: options.maxCompressionRatio,
      what: `The zip entry "${entry.name}"`,
      corruptMessage: (error) =>
        error.code === 'Z_BUF_ERROR'
          ? `The zip entry "${entry.name}" ends early (the archive is truncated). Send the complete file again.`
          : `The zip entry "${entry.name}" is corrupt (${error.message}). Send the file again.`,
    },
    tally,
  );
  const { produced, crc } = tally;

  const compressed = reader.position - dataStart;
  const trailer = await readDataDescriptor(reader, entry, source);
  const expected = trailer ?? {
    crc: entry.crc,
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
  };
  if (expected.crc >>> 0 !== crc >>> 0) {
    throw zipError(
      'corrupt_zip',
      `The zip entry "${entry.name}" fails its CRC-32 check: the archive is damaged. Send the file again.`,
      source,
    );
  }
  const sizes = trailer?.wide === false ? 0x1_0000_0000 : Number.MAX_SAFE_INTEGER;
  if (
    (expected.uncompressedSize !== undefined && expected.uncompressedSize % sizes !== produced % sizes) ||
    (expected.compressedSize !== undefined && expected.compressedSize % sizes !== compressed % sizes)
  ) {
    throw zipError(
      'corrupt_zip',
      `The zip entry "${entry.name}" does not have the size its header declares: the archive is damaged. Send the file again.`,
      source,
    );
  }
  await readCentralDirectory(reader, source);
}

async function readLocalHeader(reader: ByteReader, source: string): Promise<EntryHeader> {
  const fixed = await reader.read(LOCAL_HEADER_BYTES);
  if (fixed === undefined || fixed.readUInt32LE(0) !== LOCAL_HEADER) {
    throw zipError(
      fixed === undefined ? 'corrupt_zip' : 'not_zip',
      fixed === undefined
        ? 'The zip archive ends inside its first header (truncated). Send the complete file again.'
        : 'The file starts like a zip archive but its first entry header is not one. Send the file again.',
      source,
    );
  }
  const name = await reader.read(fixed.readUInt16LE(26));
  const extra = await reader.read(fixed.readUInt16LE(28));
  if (name === undefined || extra === undefined) {
    throw zipError('corrupt_zip', 'The zip archive ends inside its first header (truncated).', source);
  }
  const entry = parseLocalHeader(fixed, name, extra);
  checkReadable(entry, source, `The zip entry "${entry.name}"`);
  const problem = namePathProblem(entry.name);
  if (problem !== undefined) {
    throw zipError('zip_not_single_file', `The zip archive's entry ${problem}. ${ONE_FILE}`, source);
  }
  return entry;
}

async function* stored(reader: ByteReader, entry: EntryHeader, source: string): AsyncGenerator<Buffer> {
  if (entry.compressedSize === undefined) {
    throw zipError(
      'zip_unsupported',
      `The zip entry "${entry.name}" is stored uncompressed without its size in the header (a streamed archive), which cannot be read as it arrives. Zip it with deflate compression, or send it gzip-compressed.`,
      source,
    );
  }
  let left = entry.compressedSize;
  while (left > 0) {
    const chunk = await reader.next();
    if (chunk === undefined) {
      throw zipError(
        'corrupt_zip',
        `The zip entry "${entry.name}" ends early (the archive is truncated).`,
        source,
      );
    }
    if (chunk.length > left) reader.unshift(chunk.subarray(left));
    const piece = chunk.length > left ? chunk.subarray(0, left) : chunk;
    left -= piece.length;
    yield piece;
  }
}

interface Trailer {
  readonly crc: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  /** false: sizes were 4 bytes and are compared modulo 2^32 */
  readonly wide: boolean;
}

/** The data descriptor after an entry whose header had no sizes; its signature is optional. */
async function readDataDescriptor(
  reader: ByteReader,
  entry: EntryHeader,
  source: string,
): Promise<Trailer | undefined> {
  if ((entry.flags & FLAG_DATA_DESCRIPTOR) === 0) return undefined;
  const wide = entry.zip64;
  const size = wide ? 20 : 12;
  const head = await reader.read(4);
  if (head === undefined) throw truncatedAfterEntry(entry, source);
  const signed = head.readUInt32LE(0) === DATA_DESCRIPTOR;
  const body = await reader.read(signed ? size : size - 4);
  if (body === undefined) throw truncatedAfterEntry(entry, source);
  const all = signed ? body : Buffer.concat([head, body]);
  return {
    crc: all.readUInt32LE(0),
    compressedSize: wide ? Number(all.readBigUInt64LE(4)) : all.readUInt32LE(4),
    uncompressedSize: wide ? Number(all.readBigUInt64LE(12)) : all.readUInt32LE(8),
    wide,
  };
}

function truncatedAfterEntry(entry: EntryHeader, source: string) {
  return zipError(
    'corrupt_zip',
    `The zip archive ends right after the entry "${entry.name}", without its directory (truncated). Send the complete file again.`,
    source,
  );
}

/** Reads the central directory and its end records; exactly one entry may be listed. */
async function readCentralDirectory(reader: ByteReader, source: string): Promise<void> {
  let entries = 0;
  for (;;) {
    const signature = await reader.read(4);
    if (signature === undefined) {
      throw zipError(
        'corrupt_zip',
        'The zip archive ends before its end-of-directory record (truncated). Send the complete file again.',
        source,
      );
    }
    switch (signature.readUInt32LE(0)) {
      case LOCAL_HEADER:
        throw zipError(
          'zip_several_entries',
          `The zip archive holds more than one file. ${ONE_FILE}`,
          source,
        );
      case CENTRAL_HEADER: {
        const fixed = await reader.read(CENTRAL_HEADER_BYTES - 4);
        if (fixed === undefined) throw truncatedDirectory(source);
        entries++;
        if (entries > 1) {
          throw zipError(
            'zip_several_entries',
            `The zip archive lists more than one file. ${ONE_FILE}`,
            source,
          );
        }
        const variable = fixed.readUInt16LE(24) + fixed.readUInt16LE(26) + fixed.readUInt16LE(28);
        if (!(await reader.skip(variable))) throw truncatedDirectory(source);
        break;
      }
      case ZIP64_END_OF_CENTRAL_DIRECTORY: {
        const size = await reader.read(8);
        if (size === undefined || !(await reader.skip(Number(size.readBigUInt64LE(0))))) {
          throw truncatedDirectory(source);
        }
        break;
      }
      case ZIP64_LOCATOR:
        if (!(await reader.skip(16))) throw truncatedDirectory(source);
        break;
      case END_OF_CENTRAL_DIRECTORY: {
        const end = await reader.read(END_BYTES - 4);
        if (end === undefined) throw truncatedDirectory(source);
        const listed = end.readUInt16LE(6);
        if (listed !== 0xffff && listed > 1) {
          throw zipError('zip_several_entries', `The zip archive lists ${listed} files. ${ONE_FILE}`, source);
        }
        // The archive comment, if any, is read (and hashed) but ignored.
        while ((await reader.next()) !== undefined) {}
        return;
      }
      default:
        throw zipError(
          'corrupt_zip',
          'The zip archive is damaged after its entry (an unknown record where its directory should be). Send the file again.',
          source,
        );
    }
  }
}

function truncatedDirectory(source: string) {
  return zipError(
    'corrupt_zip',
    'The zip archive ends inside its directory (truncated). Send the complete file again.',
    source,
  );
}
