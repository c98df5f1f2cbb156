/**
 * Pulls exact byte counts out of a stream of chunks, for the binary container formats read as they
 * stream past (a zip's headers around its one entry). Holds only what a caller has asked for and
 * not yet taken, plus at most one input chunk.
 */
export class ByteReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  private done = false;
  /** Bytes taken so far (read, skipped or handed out by `next`). */
  position = 0;

  constructor(chunks: AsyncIterable<Buffer>) {
    this.iterator = chunks[Symbol.asyncIterator]();
  }

  /** Makes at least `n` bytes available; false when the stream ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.heldBytes < n) {
      if (this.done) return false;
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        return false;
      }
      if (next.value.length === 0) continue;
      this.held.push(next.value);
      this.heldBytes += next.value.length;
    }
    return true;
  }

  /** Exactly `n` bytes, or undefined when the stream ends first (what was there stays unread). */
  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) return undefined;
    return this.take(n);
  }

  /** Skips `n` bytes; false when the stream ends first. Never holds more than one chunk while skipping. */
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.heldBytes === 0 && !(await this.fill(1))) return false;
      const step = Math.min(left, this.heldBytes);
      this.take(step);
      left -= step;
    }
    return true;
  }

  /** The next run of bytes (what is held, else the next input chunk); undefined at the end. */
  async next(): Promise<Buffer | undefined> {
    if (this.heldBytes === 0 && !(await this.fill(1))) return undefined;
    const chunk = this.held.shift() as Buffer;
    this.heldBytes -= chunk.length;
    this.position += chunk.length;
    return chunk;
  }

  /** Everything left, chunk by chunk. */
  async *remaining(): AsyncGenerator<Buffer> {
    for (let chunk = await this.next(); chunk !== undefined; chunk = await this.next()) yield chunk;
  }

  /** Gives back bytes taken by `next` but not used; they are read again first. */
  unshift(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.held.unshift(bytes);
    this.heldBytes += bytes.length;
    this.position -= bytes.length;
  }

  /** Whether anything is left; reads ahead one chunk to know. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  private take(n: number): Buffer {
    this.position += n;
    this.heldBytes -= n;
    const first = this.held[0] as Buffer;
    if (first.length >= n) {
      if (first.length === n) this.held.shift();
      else this.held[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const chunk = this.held[0] as Buffer;
      const step = Math.min(chunk.length, n - at);
      chunk.copy(out, at, 0, step);
      at += step;
      if (step === chunk.length) this.held.shift();
      else this.held[0] = chunk.subarray(step);
    }
    return out;
  }
}
