/**
 * Content-defined chunking (FastCDC with normalised chunking, Xia et al., USENIX ATC 2016): a file is cut
 * where a rolling gear hash of the last 32 bytes has its top bits clear, so an insertion moves only the cuts
 * near it and the chunks after it keep their names. The gear table comes from the snapshot key, so the cut
 * points (and thus chunk sizes) do not reveal content to anyone without the key.
 *
 * Cuts are never before `min` nor after `max`; between `min` and `avg` a stricter mask (two more bits)
 * makes a cut less likely, after `avg` a looser one more likely, which narrows sizes around `avg`.
 * Chunks never span files: each file starts a new chunk.
 */
import type { FileHandle } from 'node:fs/promises';

export interface ChunkerParams {
  readonly min: number;
  /** A power of two. */
  readonly avg: number;
  readonly max: number;
}

/** 1 MiB on average: few enough objects for S3 (and its per-request cost), small enough to dedupe well. */
export const DEFAULT_CHUNKER: ChunkerParams = { min: 256 * 1024, avg: 1024 * 1024, max: 4 * 1024 * 1024 };

export function checkChunkerParams(params: ChunkerParams): void {
  const bits = Math.log2(params.avg);
  if (
    !Number.isInteger(bits) ||
    bits < 6 ||
    bits > 28 ||
    !Number.isInteger(params.min) ||
    !Number.isInteger(params.max) ||
    params.min < 64 ||
    params.min >= params.avg ||
    params.max <= params.avg
  ) {
    throw new RangeError(
      `invalid chunker parameters ${JSON.stringify(params)}: need 64 <= min < avg < max with avg a power of two`,
    );
  }
}

export class Chunker {
  private readonly strictMask: number;
  private readonly looseMask: number;

  constructor(
    private readonly gear: Uint32Array,
    readonly params: ChunkerParams,
  ) {
    checkChunkerParams(params);
    const bits = Math.log2(params.avg);
    // The gear hash shifts left, so its top bits depend on the most bytes: test those.
    this.strictMask = (0xffffffff << (32 - (bits + 2))) | 0;
    this.looseMask = (0xffffffff << (32 - (bits - 2))) | 0;
  }

  /**
   * The length of the chunk starting at `start`. Call it with at least `max` bytes after `start`, or with
   * all that is left of the file: the cut is then the same however the file was read.
   */
  cut(data: Uint8Array, start: number, end: number): number {
    const { min, avg, max } = this.params;
    const available = end - start;
    if (available <= min) return available;
    const limit = start + Math.min(available, max);
    const normal = start + Math.min(available, avg);
    const gear = this.gear;
    const strict = this.strictMask;
    const loose = this.looseMask;
    let hash = 0;
    let i = start + min;
    for (; i < normal; i++) {
      hash = ((hash << 1) + (gear[data[i] as number] as number)) | 0;
      if ((hash & strict) === 0) return i + 1 - start;
    }
    for (; i < limit; i++) {
      hash = ((hash << 1) + (gear[data[i] as number] as number)) | 0;
      if ((hash & loose) === 0) return i + 1 - start;
    }
    return limit - start;
  }

  /**
   * The chunks of the file behind `handle`, read from position 0 in blocks of twice `max` (or the file's
   * size, when `sizeHint` gives it). Each yielded buffer is its own memory (never overwritten later), so it
   * may be kept while reading goes on. A wrong hint costs reads, never correctness.
   */
  async *chunks(handle: FileHandle, sizeHint?: number): AsyncGenerator<Buffer> {
    const block = this.params.max * 2;
    let pending = Buffer.alloc(0);
    let position = 0;
    let eof = false;
    for (;;) {
      while (!eof && pending.length < this.params.max) {
        // Sized to the file where it is known (most spool files are far smaller than a block), plus one byte
        // to see the end without another read.
        const wanted =
          sizeHint === undefined || position >= sizeHint ? block : Math.min(block, sizeHint - position + 1);
        const next = Buffer.allocUnsafe(pending.length + wanted);
        pending.copy(next, 0);
        let filled = pending.length;
        // Fill the whole block unless the file ends: short reads would otherwise shift the cut points.
        while (filled < next.length) {
          const { bytesRead } = await handle.read(next, filled, next.length - filled, position);
          if (bytesRead === 0) {
            eof = true;
            break;
          }
          filled += bytesRead;
          position += bytesRead;
        }
        pending = next.subarray(0, filled);
      }
      if (pending.length === 0) return;
      const length = this.cut(pending, 0, pending.length);
      yield pending.subarray(0, length);
      pending = pending.subarray(length);
    }
  }
}
