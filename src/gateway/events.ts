import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3EventRecord } from 'aws-lambda';
import type { Logger } from '../observability/logger.js';
import type { CreatedHow, ObjectMeta } from './bucket-store.js';
import type { EventOutbox, OutboxEntry } from './outbox.js';

/** One record of an S3 event notification, as AWS delivers it to Lambda or SQS. */
export type S3EventRecordLike = S3EventRecord;

/**
 * Encodes a key the way S3 writes it into event notifications: form-style, so a space becomes `+` and a real
 * `+` becomes `%2B`; `/` and the unreserved characters stay as they are.
 */
export function encodeEventKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9._\-*/]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Sequencers only grow, also across restarts (they start from the clock), and have a fixed width so that, as in
 * S3, comparing them as strings orders the events of one key.
 */
export class Sequencer {
  private last = 0n;

  next(): string {
    const fromClock = BigInt(Date.now()) << 20n;
    this.last = fromClock > this.last ? fromClock : this.last + 1n;
    return this.last.toString(16).toUpperCase().padStart(18, '0');
  }
}

export function buildEventRecord(input: {
  bucket: string;
  meta: ObjectMeta;
  how: CreatedHow;
  region: string;
  principalId: string;
  sourceIp: string;
  requestId: string;
  sequencer: string;
}): S3EventRecordLike {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: input.region,
    eventTime: input.meta.lastModified,
    eventName: `ObjectCreated:${input.how}`,
    userIdentity: { principalId: input.principalId },
    requestParameters: { sourceIPAddress: input.sourceIp },
    responseElements: {
      'x-amz-request-id': input.requestId,
      'x-amz-id-2': randomBytes(48).toString('base64'),
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'inlet-local-gateway',
      bucket: {
        name: input.bucket,
        ownerIdentity: { principalId: input.principalId },
        arn: `arn:aws:s3:::${input.bucket}`,
      },
      object: {
        key: encodeEventKey(input.meta.key),
        size: input.meta.size,
        eTag: input.meta.etag,
        sequencer: input.sequencer,
      },
    },
  };
}

export interface RetryPolicy {
  /** Attempts per record, the first included; a bound on the loop, the time below ends it first. @default 1000 */
  attempts: number;
  /** Delay before the first retry, doubled each time up to `maxDelayMs`. @default 200 */
  baseDelayMs: number;
  /** The longest wait between two attempts. @default 30000 */
  maxDelayMs: number;
  /** Give up on a record (to the dead letters) once this much time has passed since its first attempt. @default 3600000 */
  maxElapsedMs: number;
}

/**
 * What S3 → SQS → Lambda gives on AWS: a failing delivery is tried again for a long time (a queue's
 * retention, redrives up to maxReceiveCount) before it reaches a dead-letter queue. Here: backoff from
 * 200 ms doubling to 30 s between attempts, for up to an hour (about 125 attempts), so a PostgreSQL that is
 * down for minutes loses no event. A gateway that stops meanwhile leaves the event pending, and the next
 * start delivers it again; only after the hour does it go to `.events/dead/`.
 */
export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 1000,
  baseDelayMs: 200,
  maxDelayMs: 30_000,
  maxElapsedMs: 3_600_000,
};

/**
 * Delivers records to the handler one at a time, in the order the objects were created, off the request path.
 * A rejecting handler is retried with capped exponential backoff (at-least-once); after the bound (an hour by
 * default) the record is logged and moved to the outbox's dead letters, as SQS would after its redeliveries.
 * `stop()` ends the waiting: a record not delivered by then stays pending, for the next start. A record leaves the outbox only
 * once the handler resolved for it, so the handler must reject whenever it has not recorded an outcome.
 * Nothing is delivered before `start()`: records queued earlier (replayed ones first) wait in order, so a
 * handler that is not ready yet never sees, and never drops, a record.
 */
export class EventDispatcher {
  private readonly queue: Array<{ entry: OutboxEntry; durable: Promise<void>; saved: Promise<void> }> = [];
  private running: Promise<void> | undefined;
  private started = false;
  private stopping = false;
  private readonly stopped = new AbortController();

  constructor(
    private readonly handler: (record: S3EventRecordLike) => Promise<void>,
    private readonly outbox: EventOutbox,
    private readonly logger: Logger,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  /**
   * `durable` settles once the object is on disk; the record is not delivered before. The record is
   * saved to the outbox at the same time; the returned promise settles when it is, and the object is
   * acknowledged only after both, so no acknowledged object goes unannounced.
   */
  enqueue(
    entry: OutboxEntry,
    durable: Promise<void> = Promise.resolve(),
    alreadySaved = false,
  ): Promise<void> {
    const saved = alreadySaved ? Promise.resolve() : this.outbox.save(entry);
    this.queue.push({ entry, durable, saved });
    this.kick();
    return saved;
  }

  /** Starts delivering, queued records first. Calling it again does nothing. */
  start(): void {
    this.started = true;
    this.kick();
  }

  private kick(): void {
    if (!this.started || this.queue.length === 0) return;
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /**
   * Ends retrying: a record whose handler fails from now on, or is waiting for its next attempt, stays in the
   * outbox's pending records (not its dead letters) for the next run. Records that deliver at once still do.
   * Resolves once the dispatcher is idle.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopped.abort();
    await this.idle();
  }

  /**
   * Resolves once every queued record has been delivered or given up on; before `start()`, at once (the
   * records stay in the outbox for the next run).
   */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
      try {
        await next.durable;
      } catch (err) {
        this.logger.error('object was not made durable; event dropped', { key: next.entry.key, err });
        await next.saved.then(() => this.outbox.delivered(next.entry)).catch(() => undefined);
        continue;
      }
      try {
        await next.saved;
      } catch (err) {
        // The object is on disk but its event could not be saved: deliver it all the same.
        this.logger.warn('event could not be saved to the outbox; delivering it from memory', {
          key: next.entry.key,
          err,
        });
      }
      const verdict = await this.deliver(next.entry.record);
      // A record the stop interrupted stays pending: the next start replays it.
      if (verdict === 'stopped') continue;
      await (verdict === 'delivered'
        ? this.outbox.delivered(next.entry)
        : this.outbox.dead(next.entry)
      ).catch((err: unknown) =>
        this.logger.warn('could not update the event outbox', { key: next.entry.key, err }),
      );
    }
  }

  /** Whether the handler took the record, it was given up on (dead), or the stop came first (left pending). */
  private async deliver(record: S3EventRecordLike): Promise<'delivered' | 'dead' | 'stopped'> {
    const started = Date.now();
    const fields = {
      bucket: record.s3.bucket.name,
      key: record.s3.object.key,
      sequencer: record.s3.object.sequencer,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.handler(record);
        return 'delivered';
      } catch (err) {
        if (this.stopping) {
          this.logger.warn(
            'gateway event handler failed while stopping; the event stays pending for the next start',
            {
              ...fields,
              attempt,
              err,
            },
          );
          return 'stopped';
        }
        const delay = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        if (attempt >= this.retry.attempts || Date.now() - started + delay > this.retry.maxElapsedMs) {
          this.logger.error('gateway event handler failed; event moved to the outbox dead letters', {
            ...fields,
            attempt,
            elapsedMs: Date.now() - started,
            err,
          });
          return 'dead';
        }
        this.logger.warn('gateway event handler failed; retrying', {
          ...fields,
          attempt,
          delayMs: delay,
          err,
        });
        await sleep(delay, undefined, { signal: this.stopped.signal }).catch(() => undefined);
        if (this.stopping) return 'stopped';
      }
    }
  }
}
