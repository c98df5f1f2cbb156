import { crc32, createInflateRaw, type ZlibOptions } from 'node:zlib';
import type { ByteReader } from '../byte-reader.js';
import { compressionRatioError, expandsTooMuch } from '../ratio.js';
import { zipError } from './records.js';

/**
 * Inflates one raw-deflate stream read from `reader`, yielding its output with backpressure, and
 * leaves the reader just past the compressed bytes: the deflate stream says where it ends, which is
 * how a zip entry without sizes in its header (a data descriptor follows it) is read while streaming.
 * Node's inflater stops at the end of the deflate stream and reports how much input it used
 * (`bytesWritten`); what was handed to it past that point is given back to the reader.
 *
 * Throws zlib's error when the data is corrupt, and one with code `Z_BUF_ERROR` when the input ends
 * before the deflate stream does.
 */
export async function* inflateRawFrom(reader: ByteReader, limit?: number): AsyncGenerator<Buffer> {
  // Inflating runs on the thread pool: with room for a few chunks (rather than the default 16 KiB, less
  // than one) it works on the next ones while the caller reads this one, instead of starting when asked.
  // Node hands stream options on to the stream; @types/node's ZlibOptions does not list them.
  const inflater = createInflateRaw({
    chunkSize: 256 * 1024,
    readableHighWaterMark: 1024 * 1024,
  } as ZlibOptions);
  let ended = false;
  inflater.once('end', () => {
    ended = true;
  });
  const fed: Buffer[] = [];
  /** Input bytes handed to the inflater before fed[0]. */
  let fedBefore = 0;
  let left = limit ?? Number.POSITIVE_INFINITY;

  const pump = async () => {
    while (!ended) {
      let chunk = left > 0 ? await reader.next() : undefined;
      if (chunk === undefined) {
        inflater.end();
        return;
      }
      if (chunk.length > left) {
        reader.unshift(chunk.subarray(left));
        chunk = chunk.subarray(0, left);
      }
      left -= chunk.length;
      fed.push(chunk);
      while (fed.length > 1 && fedBefore + (fed[0] as Buffer).length <= inflater.bytesWritten) {
        fedBefore += (fed.shift() as Buffer).length;
      }
      if (!inflater.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            inflater.off('drain', done);
            inflater.off('end', done);
            inflater.off('close', done);
            resolve();
          };
          inflater.on('drain', done);
          inflater.on('end', done);
          inflater.on('close', done);
        });
      }
    }
  };
  const pumping = pump().catch((error: unknown) => {
    inflater.destroy(error as Error);
  });
  try {
    for await (const out of inflater) yield out as Buffer;
    await pumping;
    // Everything handed over past the end of the deflate stream belongs to what follows it.
    let skip = inflater.bytesWritten - fedBefore;
    const rest: Buffer[] = [];
    for (const chunk of fed) {
      if (skip >= chunk.length) skip -= chunk.length;
      else {
        rest.push(chunk.subarray(skip));
        skip = 0;
      }
    }
    for (let i = rest.length - 1; i >= 0; i--) reader.unshift(rest[i] as Buffer);
  } finally {
    if (!ended) inflater.destroy();
  }
}

/** What `checkedEntry` found once the entry's data ended: compare with the sizes and CRC-32 the archive declares. */
export interface EntryTally {
  produced: number;
  crc: number;
}

export interface EntryChecks {
  readonly source: string;
  /** Compressed bytes consumed so far, for the ratio check. */
  readonly consumed: () => number;
  /** Called with each decompressed chunk before it is handed on (a cap shared by several entries). */
  readonly onChunk?: (chunk: Buffer) => void;
  /** Decompressed bytes per compressed byte past which the entry is refused (limits.maxCompressionRatio). */
  readonly maxRatio: number;
  /** The entry, for the ratio message: `The zip entry "a.csv"`. */
  readonly what: string;
  /** The message when zlib finds the data corrupt or cut short (`Z_BUF_ERROR`). */
  readonly corruptMessage: (error: Error & { code: string }) => string;
}

/**
 * A zip entry's decompressed bytes, passed through with the checks every entry gets: its CRC-32 and
 * size counted into `tally`, a ratio limit against zip bombs, and zlib's errors turned into
 * `corrupt_zip` with the caller's words.
 */
export async function* checkedEntry(
  output: AsyncIterable<Buffer>,
  checks: EntryChecks,
  tally: EntryTally,
): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of output) {
      tally.produced += chunk.length;
      tally.crc = crc32(chunk, tally.crc);
      checks.onChunk?.(chunk);
      const consumed = checks.consumed();
      if (expandsTooMuch(tally.produced, consumed, checks.maxRatio)) {
        throw compressionRatioError(checks.what, checks.maxRatio, consumed, tally.produced, checks.source);
      }
      yield chunk;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw zipError(
        'corrupt_zip',
        checks.corruptMessage(error as Error & { code: string }),
        checks.source,
        error,
      );
    }
    throw error;
  }
}
