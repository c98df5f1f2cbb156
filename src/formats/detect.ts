import { extname } from 'node:path';
import { brotliDecompressSync, constants, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { FormatError } from '../errors.js';
import type { FormatName } from '../model/contract.js';
import { headAsUtf8 } from './text-encoding.js';
import { LOCAL_HEADER, LOCAL_HEADER_BYTES } from './zip/records.js';

export type Compression = 'gzip' | 'deflate' | 'brotli' | 'zip' | 'none';
/** A pipeline's `compression:` key: `auto` detects by magic bytes (and `.br` by name). */
export type DeclaredCompression = 'auto' | Compression;
export type ConcreteFormat = Exclude<FormatName, 'auto'>;

const GZIP = [0x1f, 0x8b];
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const EMPTY_ZIP = [0x50, 0x4b, 0x05, 0x06];
const PARQUET = [0x50, 0x41, 0x52, 0x31];

const SUPPORTED =
  'Send CSV, TSV, NDJSON, JSON, Parquet or XLSX (optionally gzip, deflate, brotli or single-file zip compressed).';

/** Magic numbers of files that are never tabular text, so a client's mistake is named precisely. */
const BINARY_SIGNATURES: readonly { readonly bytes: readonly number[]; readonly what: string }[] = [
  { bytes: [0x89, 0x50, 0x4e, 0x47], what: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { bytes: [0x47, 0x49, 0x46, 0x38], what: 'a GIF image' },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document' },
  { bytes: [0x42, 0x5a, 0x68], what: 'bzip2-compressed data (use gzip, deflate, brotli or zip)' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a], what: 'xz-compressed data (use gzip, deflate, brotli or zip)' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], what: 'zstd-compressed data (use gzip, deflate, brotli or zip)' },
  { bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], what: 'a 7-Zip archive (use a single-file zip or gzip)' },
  { bytes: [0x52, 0x61, 0x72, 0x21], what: 'a RAR archive (use a single-file zip or gzip)' },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0], what: 'a legacy Office document (.xls); save it as .xlsx or CSV' },
  { bytes: [0x7f, 0x45, 0x4c, 0x46], what: 'an executable (ELF)' },
  { bytes: EMPTY_ZIP, what: 'an empty ZIP archive' },
  { bytes: ZIP, what: 'a ZIP archive or XLSX workbook' },
  { bytes: PARQUET, what: 'a Parquet file' },
];

function startsWith(head: Uint8Array, magic: readonly number[]): boolean {
  return head.length >= magic.length && magic.every((b, i) => head[i] === b);
}

/**
 * How the raw bytes are compressed. gzip and zip are known by their magic bytes, zlib-wrapped
 * deflate by its two-byte header confirmed by inflating the head, brotli (which has no magic number)
 * only by a `.br` name or the pipeline's `compression:` key. A zip that is an XLSX workbook is a
 * format, not compression: it is told apart by the declared format, the name or its first entry.
 */
export function detectCompression(
  head: Uint8Array,
  name = '',
  declared: DeclaredCompression = 'auto',
  format: FormatName = 'auto',
): Compression {
  if (declared !== 'auto') return declared;
  if (startsWith(head, GZIP)) return 'gzip';
  if (startsWith(head, ZIP)) return isWorkbook(head, name, format) ? 'none' : 'zip';
  if (looksLikeZlib(head)) return 'deflate';
  if (/\.br$/i.test(name)) return 'brotli';
  return 'none';
}

function isWorkbook(head: Uint8Array, name: string, format: FormatName): boolean {
  if (format === 'xlsx' || /\.xlsx$/i.test(name)) return true;
  if (/\.zip$/i.test(name) || format !== 'auto') return false;
  const first = firstZipEntryName(head);
  return first !== undefined && /^(\[Content_Types\]\.xml|_rels\/|docProps\/|xl\/)/.test(first);
}

function firstZipEntryName(head: Uint8Array): string | undefined {
  if (head.length < LOCAL_HEADER_BYTES) return undefined;
  const buffer = Buffer.from(head.buffer, head.byteOffset, head.length);
  if (buffer.readUInt32LE(0) !== LOCAL_HEADER) return undefined;
  const length = buffer.readUInt16LE(26);
  if (LOCAL_HEADER_BYTES + length > buffer.length) return undefined;
  return buffer.toString('utf8', LOCAL_HEADER_BYTES, LOCAL_HEADER_BYTES + length);
}

/**
 * RFC 1950: CM 8, window ≤ 32 KiB, no preset dictionary, header checksum a multiple of 31. Text can
 * begin with such two bytes (`x^`), so the head must also inflate.
 */
function looksLikeZlib(head: Uint8Array): boolean {
  if (head.length < 3) return false;
  const cmf = head[0] as number;
  const flg = head[1] as number;
  if ((cmf & 0x0f) !== 8 || cmf >> 4 > 7 || (flg & 0x20) !== 0 || ((cmf << 8) | flg) % 31 !== 0) return false;
  try {
    return inflateSync(head, { finishFlush: constants.Z_SYNC_FLUSH }).length > 0;
  } catch {
    return false;
  }
}

/** Strips compression suffixes so `orders.csv.gz` is judged by `.csv`. */
function extensionOf(name: string): string {
  const base = name.replace(/\.(gz|gzip|br|zz|zlib|deflate|zip)$/i, '');
  return extname(base).toLowerCase();
}

const BY_EXTENSION: Record<string, ConcreteFormat> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'json',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.xlsx': 'xlsx',
};

/**
 * Decides the format of decompressed content: known binary signatures first (Parquet and XLSX are
 * recognised by theirs), then the first meaningful character for JSON, then the extension, else
 * CSV. A declared format is checked against the content so that a PNG declared as CSV is refused
 * as "not a CSV" instead of producing a thousand rejected rows.
 */
export function detectFormat(
  head: Uint8Array,
  name: string,
  declared: FormatName,
  source?: string,
): ConcreteFormat {
  const binary = BINARY_SIGNATURES.find((s) => startsWith(head, s.bytes));
  const wanted = declared === 'auto' ? undefined : declared;
  if (binary) {
    if ((wanted === 'parquet' || wanted === undefined) && binary.bytes === PARQUET) return 'parquet';
    if ((wanted === 'xlsx' || wanted === undefined) && binary.bytes === ZIP) return 'xlsx';
    throw new FormatError(
      'not_tabular',
      `${wanted ? `Not a ${wanted.toUpperCase()} file` : 'Not a supported file'}: the content is ${binary.what}. ${SUPPORTED}`,
      { location: { source } },
    );
  }
  if (wanted === 'parquet' || wanted === 'xlsx') {
    throw new FormatError(
      'not_tabular',
      `Not a${wanted === 'xlsx' ? 'n XLSX' : ' Parquet'} file: it does not start with the ${
        wanted === 'xlsx' ? 'zip signature of a workbook' : 'Parquet magic bytes "PAR1"'
      }. Check that the right file was sent.`,
      { location: { source } },
    );
  }
  // A UTF-16 file is text although every other byte of its ASCII is NUL.
  const text = headAsUtf8(head);
  if (looksBinary(text)) {
    throw new FormatError(
      'not_tabular',
      `${wanted ? `Not a ${wanted.toUpperCase()} file` : 'Not a text file'}: its first bytes are binary data ` +
        '(many NUL or control bytes). Check that the right file was sent and that it is compressed with gzip, deflate, brotli (.br) or zip if at all.',
      { location: { source } },
    );
  }
  if (wanted) return wanted;
  const first = firstMeaningfulByte(text);
  const byExtension = BY_EXTENSION[extensionOf(name)];
  if (first === 0x5b /* [ */) return byExtension === 'ndjson' ? 'ndjson' : 'json';
  if (first === 0x7b /* { */) return byExtension === 'json' ? 'json' : 'ndjson';
  if (byExtension === 'parquet' || byExtension === 'xlsx') {
    throw new FormatError(
      'not_tabular',
      `Not a${byExtension === 'xlsx' ? 'n XLSX' : ' Parquet'} file, although it is named like one: its content is text. Check that the right file was sent.`,
      { location: { source } },
    );
  }
  return byExtension ?? 'csv';
}

function firstMeaningfulByte(head: Uint8Array): number | undefined {
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  for (; i < head.length; i++) {
    const b = head[i] as number;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return b;
  }
  return undefined;
}

/** More than 10% NUL or non-whitespace control bytes in the first 4 KiB: not text in any encoding we read. */
export function looksBinary(head: Uint8Array): boolean {
  const n = Math.min(head.length, 4096);
  if (n === 0) return false;
  let suspicious = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i] as number;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) suspicious++;
  }
  return suspicious * 10 > n;
}

/**
 * The first decompressed bytes of a file from its first raw bytes alone, for judging an upload
 * before it is stored: the head of a gzip, deflate or brotli stream, or of a single-file zip's entry
 * (with the entry's name, which format detection looks at). `content` is undefined when nothing can
 * be said from the head (the entry starts past it); a head that does not decompress throws.
 */
export function decompressHead(
  head: Uint8Array,
  name: string,
  declared: DeclaredCompression = 'auto',
  format: FormatName = 'auto',
): { compression: Compression; content: Uint8Array | undefined; name: string } {
  const compression = detectCompression(head, name, declared, format);
  const partial = { finishFlush: constants.Z_SYNC_FLUSH };
  switch (compression) {
    case 'none':
      return { compression, content: head, name };
    case 'gzip':
      return { compression, content: gunzipSync(head, partial), name };
    case 'deflate':
      return { compression, content: inflateSync(head, partial), name };
    case 'brotli': {
      const content = brotliDecompressSync(head, { finishFlush: constants.BROTLI_OPERATION_FLUSH });
      return { compression, content: content.length > 0 ? content : undefined, name };
    }
    case 'zip': {
      const buffer = Buffer.from(head.buffer, head.byteOffset, head.length);
      const entry = firstZipEntryName(head);
      if (entry === undefined || buffer.length < LOCAL_HEADER_BYTES)
        return { compression, content: undefined, name };
      const start = LOCAL_HEADER_BYTES + buffer.readUInt16LE(26) + buffer.readUInt16LE(28);
      const method = buffer.readUInt16LE(8);
      const data = buffer.subarray(Math.min(start, buffer.length));
      let content: Uint8Array | undefined;
      if (method === 0) content = data;
      else if (method === 8 && data.length > 0) {
        try {
          content = inflateRawSync(data, partial);
        } catch {
          content = undefined;
        }
      }
      return { compression, content: content?.length ? content : undefined, name: entry };
    }
  }
}
