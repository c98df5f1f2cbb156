/**
 * One file being written into `/inbound/<pipeline>/`: the SFTP WRITE requests become the body of an
 * upload that the accept path (src/server/accept.ts) streams into the spool with the upload API's checks.
 * Writes must come in order from offset 0 (every client's `put` sends them so); anything else is a resume
 * or a random write, which a file that is loaded whole cannot honour, and is refused. CLOSE resolves only
 * when the spool holds the file durably and has queued it; a connection lost before then aborts the body,
 * and the spool keeps nothing of it.
 */

/** Bytes held between the WRITEs and the spool before a WRITE's answer waits: the client's window. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

export class WriteRefused extends Error {
  constructor(
    message: string,
    readonly kind: 'unsupported' | 'failure',
  ) {
    super(message);
  }
}

export class InboundWrite<T> {
  private readonly chunks: Buffer[] = [];
  private queuedBytes = 0;
  /** Bytes written so far: the offset the next WRITE must have. */
  private received = 0;
  private ended = false;
  private abortedWith: Error | undefined;
  private failure: Error | undefined;
  private wakeReader: (() => void) | undefined;
  private readonly drained: (() => void)[] = [];
  readonly result: Promise<T>;

  constructor(
    accept: (body: AsyncIterable<Uint8Array>) => Promise<T>,
    private readonly maxBytes: number,
  ) {
    this.result = accept(this.body());
    this.result.catch((error: unknown) => {
      this.failure = error as Error;
      this.release();
    });
  }

  get size(): number {
    return this.received;
  }

  /** Resolves when the chunk is taken (at once, below the high-water mark); rejects when the file is refused. */
  async write(offset: number, data: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.ended || this.abortedWith !== undefined) throw new WriteRefused('the file is closed', 'failure');
    if (offset !== this.received) {
      const error = new WriteRefused(
        `a write at offset ${offset} where ${this.received} bytes were written: resuming (reput) or writing out ` +
          'of order is not supported; put the whole file again',
        'unsupported',
      );
      this.abort(error);
      throw error;
    }
    if (this.received + data.length > this.maxBytes) {
      const error = new WriteRefused(
        `too_large: the file is over the limit of ${this.maxBytes} bytes (INLET_MAX_UPLOAD_BYTES); split it or compress it`,
        'failure',
      );
      this.abort(error);
      throw error;
    }
    this.received += data.length;
    // ssh2 hands over a buffer it may reuse: keep a copy.
    this.chunks.push(Buffer.from(data));
    this.queuedBytes += data.length;
    this.wakeReader?.();
    if (this.queuedBytes < HIGH_WATER_BYTES) return;
    await new Promise<void>((resolve) => this.drained.push(resolve));
    if (this.failure !== undefined) throw this.failure;
  }

  /** The end of the file: resolves once it is durable and queued. */
  close(): Promise<T> {
    this.ended = true;
    this.wakeReader?.();
    return this.result;
  }

  /** The client went away or a write was refused: the body fails, and the spool keeps nothing. */
  abort(reason: Error): void {
    // After CLOSE, once the spool has read every byte, the accept path decides: the file may still be
    // queued, unacknowledged, and a client that puts it again gets a duplicate, never a second load.
    this.abortedWith ??= reason;
    this.wakeReader?.();
    this.release();
  }

  private release(): void {
    for (const resolve of this.drained.splice(0)) resolve();
  }

  private async *body(): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.abortedWith !== undefined) throw this.abortedWith;
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        this.queuedBytes -= chunk.length;
        if (this.queuedBytes < HIGH_WATER_BYTES) this.release();
        yield chunk;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wakeReader = resolve;
      });
      this.wakeReader = undefined;
    }
  }
}
