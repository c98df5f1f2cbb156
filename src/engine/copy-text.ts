/**
 * A growable byte buffer that accumulates PostgreSQL COPY text format
 * (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2).
 * The hot path writes bytes straight into `buf` at `pos`; call `ensure(n)` first.
 */
export const TAB = 0x09;
export const NEWLINE = 0x0a;
export const CARRIAGE_RETURN = 0x0d;
export const BACKSLASH = 0x5c;

export class CopyTextBuffer {
  buf: Buffer;
  pos = 0;

  constructor(initialSize = 1 << 20) {
    // Never from Node's shared pool (small allocUnsafe buffers are slices of one): recycle() reuses whole buffers.
    this.buf = Buffer.allocUnsafeSlow(initialSize);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Writes ASCII text as is (the caller guarantees nothing needs escaping). */
  ascii(text: string): void {
    this.ensure(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.pos++] = text.charCodeAt(i);
  }

  /** The COPY text NULL marker `\N`. */
  nullValue(): void {
    this.ensure(2);
    this.buf[this.pos++] = BACKSLASH;
    this.buf[this.pos++] = 0x4e;
  }

  /** Copies bytes, escaping backslash, tab, newline and carriage return for COPY text. */
  escaped(src: Uint8Array, start: number, end: number): void {
    this.ensure((end - start) * 2);
    const out = this.buf;
    let pos = this.pos;
    for (let i = start; i < end; i++) {
      const b = src[i] as number;
      if (b === BACKSLASH || b === TAB || b === NEWLINE || b === CARRIAGE_RETURN) {
        out[pos++] = BACKSLASH;
        out[pos++] = b === BACKSLASH ? BACKSLASH : b === TAB ? 0x74 : b === NEWLINE ? 0x6e : 0x72;
      } else {
        out[pos++] = b;
      }
    }
    this.pos = pos;
  }

  /** Hands out the accumulated bytes and starts a fresh buffer (the old one now belongs to the caller). */
  take(): Buffer {
    const chunk = this.buf.subarray(0, this.pos);
    const spare = this.spare;
    this.spare = undefined;
    this.buf =
      spare !== undefined && spare.length >= this.buf.length
        ? spare
        : Buffer.allocUnsafeSlow(this.buf.length);
    this.pos = 0;
    return chunk;
  }

  /**
   * Gives back a chunk `take()` handed out, once nothing reads it any more (its bytes are in the socket):
   * the next `take()` writes into it instead of a new buffer. A large load otherwise allocated one buffer
   * per piece (hundreds of 512 KiB buffers for 80 MB), each freed by garbage collection.
   */
  recycle(chunk: Buffer): void {
    if (chunk.byteOffset !== 0 || chunk.buffer === this.buf.buffer) return;
    this.spare = Buffer.from(chunk.buffer, 0, chunk.buffer.byteLength);
  }

  private spare: Buffer | undefined;
}

/**
 * Validates one non-empty input value (UTF-8 bytes `src[start, end)`) and appends its COPY text
 * form to `out`. Returns `undefined` on success, or a reason a person understands
 * (e.g. `not an integer`), in which case whatever it wrote past the row start is discarded by the caller.
 */
export type Coercer = (
  src: Uint8Array,
  start: number,
  end: number,
  out: CopyTextBuffer,
) => string | undefined;
