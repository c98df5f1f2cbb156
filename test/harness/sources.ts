import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RandomAccessInput } from '../../src/formats/random-access.js';
import type { ObjectSource } from '../../src/model/ingestion.js';

/**
 * An in-memory object, streamed in chunks of `chunkSize` bytes (optionally `chunkDelayMs` apart) so
 * that parsers meet chunk boundaries as they would from a socket.
 */
export function memorySource(
  name: string,
  content: string | Buffer,
  extra: Partial<Omit<ObjectSource, 'open' | 'openRange' | 'name'>> & {
    chunkSize?: number;
    chunkDelayMs?: number;
    /** Offer ranged reads, as files and S3 objects do; `reads` records each range asked for. */
    ranged?: boolean | { reads: [number, number][] };
  } = {},
): ObjectSource {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const { chunkSize = 64 * 1024, chunkDelayMs = 0, ranged = false, ...identity } = extra;
  return {
    uri: `memory://test/${name}`,
    name,
    size: bytes.length,
    ...identity,
    ...(ranged === false
      ? {}
      : {
          openRange: async (start: number, end: number) => {
            if (typeof ranged === 'object') ranged.reads.push([start, end]);
            return Readable.from([bytes.subarray(start, end)], { objectMode: false });
          },
        }),
    open: async () => {
      async function* chunks() {
        for (let i = 0; i < bytes.length; i += chunkSize) {
          // A slow network, so that a test can act while the transaction is open.
          if (chunkDelayMs > 0) await sleep(chunkDelayMs);
          yield bytes.subarray(i, i + chunkSize);
        }
      }
      return Readable.from(chunks(), { objectMode: false });
    },
  };
}

/** Bytes in memory as a ranged RandomAccessInput, streamed `chunkSize` bytes at a time. */
export function memoryRandomAccess(bytes: Buffer, chunkSize = 64 * 1024): RandomAccessInput {
  return {
    mode: 'ranged',
    size: bytes.length,
    read: async (start, end) => bytes.subarray(start, end),
    async *stream(start, end) {
      // As the inputs of src/formats/random-access.ts, which never yield past the end of the file.
      if (end > bytes.length) throw new Error(`a read of bytes ${start} to ${end} of ${bytes.length}`);
      for (let at = start; at < end; at += chunkSize) yield bytes.subarray(at, Math.min(end, at + chunkSize));
    },
    finish: async () => {},
    close: async () => {},
  };
}
