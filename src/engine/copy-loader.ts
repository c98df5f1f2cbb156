import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * One `COPY … FROM STDIN` at a time on a client, with back-pressure: `write` waits while the
 * socket is full, so memory stays flat whatever the file size. `pause` ends the current COPY so
 * that other statements (writing rejects) can run in the same transaction; the next `write` starts
 * a new COPY.
 */
export class CopyLoader {
  private stream: ReturnType<typeof copyFrom> | undefined;
  private failure: unknown;

  constructor(
    private readonly client: PoolClient,
    private readonly sql: string,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.stream === undefined) {
      const stream = this.client.query(copyFrom(this.sql));
      stream.on('error', (error) => {
        this.failure ??= error;
      });
      this.stream = stream;
    }
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  /** Completes the current COPY, if one is running; throws what PostgreSQL refused. */
  async pause(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (this.failure !== undefined) throw this.failure;
    if (stream === undefined) return;
    stream.end();
    await finished(stream);
    if (this.failure !== undefined) throw this.failure;
  }

  /** Abandons the COPY (PostgreSQL aborts the transaction); the caller rolls back. */
  async abort(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (stream === undefined || this.failure !== undefined) return;
    stream.destroy(new Error('aborted by Inlet: the file is rejected'));
    await finished(stream).catch(() => {});
  }
}
