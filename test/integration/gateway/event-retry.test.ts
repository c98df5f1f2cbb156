/**
 * The local gateway's event delivery keeps trying as S3 → SQS → Lambda would (redelivery for a long time
 * before a dead-letter queue): exponential backoff capped between attempts, for up to an hour by default,
 * and a stopping gateway leaves an undelivered event pending for the next start rather than dead. Dead
 * letters are counted at start, with how to replay them, and INLET_S3_REPLAY_DEAD=1 (`replayDead`) does.
 * Every test injects a small policy: none waits long.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, EventDispatcher } from '../../../src/gateway/events.js';
import { EventOutbox, type OutboxEntry } from '../../../src/gateway/outbox.js';
import { startGateway } from '../../../src/gateway/server.js';
import type { Logger } from '../../../src/observability/logger.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';

const credentials = { accessKeyId: 'retry-test', secretAccessKey: 'retry-test-secret' };
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'inlet-event-retry-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function entry(key: string, sequencer: string): OutboxEntry {
  const record = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    eventName: 'ObjectCreated:Put',
    s3: { bucket: { name: 'inbox' }, object: { key, sequencer, eTag: 'e' } },
  } as unknown as S3EventRecord;
  return { bucket: 'inbox', key, etag: 'e', record };
}

async function until(probe: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000 && !probe(); i++) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function recordingLogger(
  lines: { level: string; message: string; fields: Record<string, unknown> }[],
): Logger {
  const log =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields });
  const logger: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
  };
  return logger;
}

describe('the default policy', () => {
  it('retries for an hour, at most 30 s apart, as SQS redelivery would before a dead-letter queue', () => {
    expect(DEFAULT_RETRY.maxElapsedMs).toBeGreaterThanOrEqual(3_600_000);
    expect(DEFAULT_RETRY.maxDelayMs).toBeLessThanOrEqual(30_000);
    // Attempts never end it before the hour does: 30 s apart, an hour holds about 120.
    expect(DEFAULT_RETRY.attempts).toBeGreaterThan(DEFAULT_RETRY.maxElapsedMs / DEFAULT_RETRY.maxDelayMs);
  });
});

describe('EventDispatcher', () => {
  it('backs off exponentially up to the cap, and delivers once the handler recovers', async () => {
    const dir = join(work, 'cap');
    const outbox = new EventOutbox(dir);
    await outbox.open();
    const calls: number[] = [];
    const dispatcher = new EventDispatcher(
      async () => {
        calls.push(Date.now());
        if (calls.length < 9) throw new Error('PostgreSQL is down (test)');
      },
      outbox,
      silentLogger,
      { attempts: 50, baseDelayMs: 5, maxDelayMs: 20, maxElapsedMs: 5000 },
    );
    dispatcher.start();
    await dispatcher.enqueue(entry('a.csv', '0001'));
    await dispatcher.idle();
    expect(calls).toHaveLength(9);
    const gaps = calls.slice(1).map((t, i) => t - (calls[i] as number));
    // Uncapped, the eighth wait would be 5 × 2^7 = 640 ms.
    expect(Math.max(...gaps)).toBeLessThan(200);
    expect(await readdir(join(dir, '.events', 'pending'))).toEqual([]);
    expect(await readdir(join(dir, '.events', 'dead'))).toEqual([]);
  });

  it('moves a record to the dead letters only once the time bound is spent', async () => {
    const dir = join(work, 'bound');
    const outbox = new EventOutbox(dir);
    await outbox.open();
    let calls = 0;
    const dispatcher = new EventDispatcher(
      async () => {
        calls++;
        throw new Error('always down (test)');
      },
      outbox,
      silentLogger,
      { attempts: 1000, baseDelayMs: 5, maxDelayMs: 10, maxElapsedMs: 150 },
    );
    dispatcher.start();
    const started = Date.now();
    await dispatcher.enqueue(entry('b.csv', '0002'));
    await dispatcher.idle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(calls).toBeGreaterThan(5);
    expect(await readdir(join(dir, '.events', 'dead'))).toEqual(['0002.json']);
  });

  it('stopping leaves a record it is still retrying pending for the next start, not dead', async () => {
    const dir = join(work, 'stop');
    const outbox = new EventOutbox(dir);
    await outbox.open();
    let calls = 0;
    const dispatcher = new EventDispatcher(
      async () => {
        calls++;
        throw new Error('down (test)');
      },
      outbox,
      silentLogger,
      { attempts: 1000, baseDelayMs: 5, maxDelayMs: 60_000, maxElapsedMs: 3_600_000 },
    );
    dispatcher.start();
    await dispatcher.enqueue(entry('c.csv', '0003'));
    await until(() => calls >= 3, 'a few attempts');
    const stopping = Date.now();
    await dispatcher.stop();
    expect(Date.now() - stopping).toBeLessThan(2000);
    expect(await readdir(join(dir, '.events', 'pending'))).toEqual(['0003.json']);
    expect(await readdir(join(dir, '.events', 'dead'))).toEqual([]);
  });
});

describe('dead letters at start', () => {
  async function withDeadLetter(name: string): Promise<string> {
    const dataDir = join(work, name);
    const dead = join(dataDir, '.events', 'dead');
    await mkdir(dead, { recursive: true });
    await writeFile(join(dead, '0009.json'), JSON.stringify(entry('dead.csv', '0009')));
    return dataDir;
  }

  it('are counted in the log, with how to replay them', async () => {
    const dataDir = await withDeadLetter('counted');
    const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    const gateway = await startGateway({
      dataDir,
      credentials,
      logger: recordingLogger(lines),
      onObjectCreated: async () => {},
    });
    await gateway.close();
    const warning = lines.find((l) => l.level === 'warn' && /dead/.test(l.message));
    expect(warning?.fields).toMatchObject({ count: 1, dir: join(dataDir, '.events', 'dead') });
    expect(warning?.message).toMatch(/INLET_S3_REPLAY_DEAD=1/);
    expect(warning?.message).toMatch(/pending/);
  });

  it('go back to pending and are delivered with replayDead', async () => {
    const dataDir = join(work, 'replayed');
    // A first run whose handler never succeeds within its (tiny) policy leaves the event dead.
    const first = await startGateway({
      dataDir,
      credentials,
      buckets: ['inbox'],
      eventRetry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 100 },
      onObjectCreated: async () => {
        throw new Error('down (test)');
      },
    });
    const store = new S3ObjectStore({
      endpoint: first.endpoint,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
    });
    await store.put('inbox', 'late.csv', 'a\n1\n');
    const deadDir = join(dataDir, '.events', 'dead');
    for (let i = 0; i < 200 && (await readdir(deadDir)).length === 0; i++) await sleep(10);
    expect(await readdir(deadDir)).toHaveLength(1);
    await first.close();

    const delivered: string[] = [];
    const second = await startGateway({
      dataDir,
      credentials,
      replayDead: true,
      onObjectCreated: async (record) => {
        delivered.push(record.s3.object.key);
      },
    });
    try {
      await until(() => delivered.length > 0, 'the replayed event');
    } finally {
      await second.close();
    }
    expect(delivered).toEqual(['late.csv']);
    expect(await readdir(join(dataDir, '.events', 'dead'))).toEqual([]);
    expect(await readdir(join(dataDir, '.events', 'pending'))).toEqual([]);
  });
});
