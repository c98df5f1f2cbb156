import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * One `COPY … FROM STDIN` at a time on a client, with back-pressure: `write` waits while the
 * socket is full, so memory stays flat whatever the file size. `pause` ends the current COPY so
 * that other statements (writing rejects) can run in the same transaction; the next `write` starts
 * a new COPY.
 */
/** The binary COPY signature, flags and header extension length. */
const BINARY_HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);
const BINARY_TRAILER = Buffer.from([0xff, 0xff]);

export class CopyLoader {
  private stream: ReturnType<typeof copyFrom> | undefined;
  private failure: unknown;
  private readonly sql: string;

  constructor(
    private readonly client: PoolClient,
    sql: string,
    private readonly format: 'text' | 'binary' = 'text',
  ) {
    this.sql = format === 'binary' ? `${sql} (FORMAT binary)` : sql;
  }

  /**
   * Sends a piece of COPY data; resolves true when the piece is already in the socket (the caller may then
   * reuse its memory), false when the stream still holds it.
   */
  async write(chunk: Buffer): Promise<boolean> {
    if (this.failure !== undefined) throw this.failure;
    const stream = this.start();
    if (!stream.write(chunk)) await once(stream, 'drain');
    // Nothing left in the stream (pg-copy-streams has handed every piece to the socket) nor in the socket
    // (a write the kernel took in part keeps a reference to the rest of the buffer until it is sent).
    return (
      stream.writableLength === 0 && socketOf(stream)?.writableLength === 0 && this.failure === undefined
    );
  }

  /**
   * Sends the COPY statement now, if none is running, rather than with the first piece: PostgreSQL's answer
   * (it is ready for the data) then comes back while the first piece is being encoded, instead of after it.
   * The rows written and the statements sent are the same; a COPY started for a file that then gives no
   * rows copies none, and one that fails is abandoned (`abort`) as a COPY with rows is.
   */
  start(): ReturnType<typeof copyFrom> {
    if (this.stream !== undefined) return this.stream;
    const stream = this.client.query(copyFrom(this.sql));
    stream.on('error', (error) => {
      this.failure ??= error;
    });
    this.stream = stream;
    if (this.format === 'binary') stream.write(BINARY_HEADER);
    return stream;
  }

  /** Completes the current COPY, if one is running; throws what PostgreSQL refused. */
  async pause(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (this.failure !== undefined) throw this.failure;
    if (stream === undefined) return;
    stream.end(this.format === 'binary' ? BINARY_TRAILER : undefined);
    await finished(stream);
    if (this.failure !== undefined) throw this.failure;
  }

  /** Abandons the COPY (PostgreSQL aborts the transaction); the caller rolls back. */
  async abort(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (stream === undefined || this.failure !== undefined) return;
    stream.destroy(new Error('COPY abandoned by Inlet'));
    await finished(stream).catch(() => {});
  }
}

/** The socket pg-copy-streams writes to (its `connection`, set while the COPY runs); undefined otherwise. */
function socketOf(stream: object): Writable | undefined {
  return (stream as { connection?: { stream?: Writable } | null }).connection?.stream ?? undefined;
}
