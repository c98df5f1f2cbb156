import { extname } from 'node:path';
import type { FormatName } from '../engine/contract.js';
import { FormatError } from '../errors.js';

export type Compression = 'gzip' | 'none';
export type ConcreteFormat = Exclude<FormatName, 'auto'>;
/** The formats this version reads; the others are refused with a clear message. */
export type ReadableFormat = Exclude<ConcreteFormat, 'parquet' | 'xlsx'>;

const GZIP = [0x1f, 0x8b];
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const PARQUET = [0x50, 0x41, 0x52, 0x31];

/** Magic numbers of files that are never tabular text, so a client's mistake is named precisely. */
const BINARY_SIGNATURES: readonly { readonly bytes: readonly number[]; readonly what: string }[] = [
  { bytes: [0x89, 0x50, 0x4e, 0x47], what: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { bytes: [0x47, 0x49, 0x46, 0x38], what: 'a GIF image' },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document' },
  { bytes: [0x42, 0x5a, 0x68], what: 'bzip2-compressed data (only gzip is supported)' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a], what: 'xz-compressed data (only gzip is supported)' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], what: 'zstd-compressed data (only gzip is supported)' },
  { bytes: [0x7f, 0x45, 0x4c, 0x46], what: 'an executable (ELF)' },
  { bytes: ZIP, what: 'a ZIP archive or XLSX workbook' },
  { bytes: PARQUET, what: 'a Parquet file' },
];

function startsWith(head: Uint8Array, magic: readonly number[]): boolean {
  return head.length >= magic.length && magic.every((b, i) => head[i] === b);
}

export function detectCompression(head: Uint8Array): Compression {
  return startsWith(head, GZIP) ? 'gzip' : 'none';
}

/** Strips compression suffixes so `orders.csv.gz` is judged by `.csv`. */
function extensionOf(name: string): string {
  const base = name.replace(/\.(gz|gzip)$/i, '');
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
  '.xlsx': 'xlsx',
};

/**
 * Decides the format of decompressed content: known binary signatures first, then the first
 * meaningful character for JSON, then the extension, else CSV. A declared format is checked
 * against the content so that a PNG declared as CSV is refused as "not a CSV" instead of
 * producing a thousand rejected rows.
 */
export function detectFormat(
  head: Uint8Array,
  name: string,
  declared: FormatName,
  source?: string,
): ReadableFormat {
  const binary = BINARY_SIGNATURES.find((s) => startsWith(head, s.bytes));
  const wanted = declared === 'auto' ? undefined : declared;
  if (binary) {
    if ((wanted === 'parquet' || wanted === undefined) && binary.bytes === PARQUET)
      return unsupported('parquet', source);
    if ((wanted === 'xlsx' || wanted === undefined) && binary.bytes === ZIP)
      return unsupported('xlsx', source);
    throw new FormatError(
      'not_tabular',
      `${wanted ? `Not a ${wanted.toUpperCase()} file` : 'Not a supported file'}: the content is ${binary.what}. ` +
        'Send CSV, TSV, NDJSON or JSON (optionally gzip-compressed).',
      { location: { source } },
    );
  }
  if (looksBinary(head)) {
    throw new FormatError(
      'not_tabular',
      `${wanted ? `Not a ${wanted.toUpperCase()} file` : 'Not a text file'}: its first bytes are binary data ` +
        '(many NUL or control bytes). Check that the right file was sent and that it is not compressed with something other than gzip.',
      { location: { source } },
    );
  }
  if (wanted === 'parquet' || wanted === 'xlsx') return unsupported(wanted, source);
  if (wanted) return wanted;
  const first = firstMeaningfulByte(head);
  const byExtension = BY_EXTENSION[extensionOf(name)];
  if (byExtension === 'parquet' || byExtension === 'xlsx') return unsupported(byExtension, source);
  if (first === 0x5b /* [ */) return byExtension === 'ndjson' ? 'ndjson' : 'json';
  if (first === 0x7b /* { */) return byExtension === 'json' ? 'json' : 'ndjson';
  return byExtension ?? 'csv';
}

function unsupported(format: 'parquet' | 'xlsx', source?: string): never {
  throw new FormatError(
    'unsupported_format',
    `${format === 'parquet' ? 'Parquet' : 'XLSX'} files are not supported yet. Export the data as CSV or NDJSON.`,
    { location: { source } },
  );
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
