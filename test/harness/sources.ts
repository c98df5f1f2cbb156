import { Readable } from 'node:stream';
import type { ObjectSource } from '../../src/engine/types.js';

/**
 * An in-memory object, streamed in chunks of `chunkSize` bytes so that parsers meet chunk
 * boundaries as they would from a socket.
 */
export function memorySource(
  name: string,
  content: string | Buffer,
  extra: Partial<Omit<ObjectSource, 'open' | 'name'>> & { chunkSize?: number } = {},
): ObjectSource {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const { chunkSize = 64 * 1024, ...identity } = extra;
  return {
    uri: `memory://test/${name}`,
    name,
    size: bytes.length,
    ...identity,
    open: async () => {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
      return Readable.from(chunks, { objectMode: false });
    },
  };
}
