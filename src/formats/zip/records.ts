/**
 * The pieces of the ZIP format (APPNOTE.TXT 6.3.10) that Inlet reads: local and central headers,
 * the zip64 extra field and the end-of-central-directory records, and the checks every entry passes.
 */
import type { ErrorCode } from '../../error-codes/index.js';
import { FormatError } from '../../errors.js';

export const LOCAL_HEADER = 0x04034b50;
export const CENTRAL_HEADER = 0x02014b50;
export const DATA_DESCRIPTOR = 0x08074b50;
export const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
export const ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064b50;
export const ZIP64_LOCATOR = 0x07064b50;

export const LOCAL_HEADER_BYTES = 30;
export const CENTRAL_HEADER_BYTES = 46;
export const END_BYTES = 22;

export const STORED = 0;
export const DEFLATED = 8;

const FLAG_ENCRYPTED = 0x0001;
const FLAG_STRONG_ENCRYPTION = 0x0040;
export const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const AES_METHOD = 99;
const ZIP64_EXTRA = 0x0001;
const U32_MAX = 0xffffffff;

const METHOD_NAMES: Record<number, string> = {
  1: 'shrink',
  6: 'implode',
  9: 'deflate64',
  12: 'bzip2',
  14: 'LZMA',
  93: 'zstd',
  95: 'xz',
  98: 'PPMd',
  99: 'AES encryption',
};

export interface EntryHeader {
  readonly name: string;
  readonly flags: number;
  readonly method: number;
  readonly crc: number;
  /** undefined when the sizes come after the data (data descriptor) */
  readonly compressedSize: number | undefined;
  readonly uncompressedSize: number | undefined;
  /** The sizes are 8 bytes wide in the data descriptor. */
  readonly zip64: boolean;
}

export function zipError(code: ErrorCode, message: string, source: string, cause?: unknown): FormatError {
  return new FormatError(code, message, { location: { source }, cause });
}

/** Decodes an entry name: UTF-8 when flagged, else CP437, which for the names people use is ASCII. */
export function entryName(bytes: Buffer, flags: number): string {
  return bytes.toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1');
}

/** Sizes from the zip64 extra field, in the order APPNOTE gives: uncompressed, then compressed. */
export function zip64Sizes(
  extra: Buffer,
  uncompressed: number,
  compressed: number,
): { uncompressed: number; compressed: number; offset?: number; zip64: boolean } {
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const size = extra.readUInt16LE(at + 2);
    if (id === ZIP64_EXTRA) {
      let field = at + 4;
      const end = field + size;
      const next = () => {
        if (field + 8 > end || field + 8 > extra.length) return undefined;
        const value = Number(extra.readBigUInt64LE(field));
        field += 8;
        return value;
      };
      const u = uncompressed === U32_MAX ? next() : uncompressed;
      const c = compressed === U32_MAX ? next() : compressed;
      return { uncompressed: u ?? uncompressed, compressed: c ?? compressed, zip64: true };
    }
    at += 4 + size;
  }
  return { uncompressed, compressed, zip64: false };
}

/** Parses the fixed part of a local header (30 bytes), after its signature was checked. */
export function parseLocalHeader(fixed: Buffer, name: Buffer, extra: Buffer): EntryHeader {
  const flags = fixed.readUInt16LE(6);
  const method = fixed.readUInt16LE(8);
  const crc = fixed.readUInt32LE(14);
  const declared = zip64Sizes(extra, fixed.readUInt32LE(22), fixed.readUInt32LE(18));
  const descriptor = (flags & FLAG_DATA_DESCRIPTOR) !== 0;
  return {
    name: entryName(name, flags),
    flags,
    method,
    crc,
    compressedSize: descriptor && declared.compressed === 0 ? undefined : declared.compressed,
    uncompressedSize: descriptor && declared.uncompressed === 0 ? undefined : declared.uncompressed,
    zip64: declared.zip64,
  };
}

/** Refuses what Inlet does not read: encryption, methods other than stored and deflate. */
export function checkReadable(entry: EntryHeader, source: string, what: string): void {
  if (entry.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) || entry.method === AES_METHOD) {
    throw zipError(
      'zip_encrypted',
      `${what} is encrypted (password-protected); Inlet cannot read it. Send it without a password.`,
      source,
    );
  }
  if (entry.method !== STORED && entry.method !== DEFLATED) {
    const name = METHOD_NAMES[entry.method] ?? `method ${entry.method}`;
    throw zipError(
      'zip_unsupported',
      `${what} is compressed with ${name}, which Inlet does not read; zip it with ordinary deflate compression, or send it gzip-compressed.`,
      source,
    );
  }
}

/** A name that is one plain file: no folders, no `..`, no drive letters, no control characters. */
export function namePathProblem(name: string): string | undefined {
  if (name === '') return 'has an empty name';
  if (name.endsWith('/') || name.endsWith('\\')) return `is a folder ("${name}")`;
  if (/[/\\]/.test(name) || name === '..' || name === '.' || /^[A-Za-z]:/.test(name)) {
    return `has a path ("${name}"): Inlet accepts one file at the top of the archive, without folders`;
  }
  if (/[\u0000-\u001f]/.test(name)) return 'has control characters in its name';
  return undefined;
}
