/**
 * The one expansion-ratio rule every compressed input passes (gzip, zlib deflate, brotli, a zip entry, an
 * XLSX part): once 1 MiB has come out, more than `limits.maxCompressionRatio` decompressed bytes per
 * compressed byte consumed is refused as a likely bomb, early, while it streams, instead of being read
 * to the end or to `limits.maxDecompressedBytes`.
 */
import { FormatError } from '../errors.js';

/** Below this many decompressed bytes the ratio is not judged: a tiny file of blanks is no threat. */
export const RATIO_CHECK_AFTER_BYTES = 1 << 20;

export function expandsTooMuch(produced: number, consumed: number, maxRatio: number): boolean {
  return produced > RATIO_CHECK_AFTER_BYTES && produced > maxRatio * Math.max(1, consumed);
}

/** `what` names the compressed data: `The gzip data`, `The zip entry "a.csv"`. */
export function compressionRatioError(
  what: string,
  maxRatio: number,
  consumed: number,
  produced: number,
  source: string,
): FormatError {
  return new FormatError(
    'compression_ratio',
    `${what} expands more than ${maxRatio} times its compressed size (${consumed} compressed bytes gave ` +
      `${produced} bytes): refused as a likely compression bomb. If the file is genuine, raise ` +
      'limits.maxCompressionRatio for this pipeline.',
    { location: { source } },
  );
}
