import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3EventRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../../src/gateway/server.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';

const credentials = { accessKeyId: 'outbox-test', secretAccessKey: 'outbox-test-secret' };
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'inlet-outbox-'));
  await chmod(work, 0o755);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('gateway event outbox', () => {
  it('replays, after kill -9, the events of acknowledged objects that were never delivered', async () => {
    const dataDir = join(work, 'crash');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/harness/gateway-child.ts',
        dataDir,
        credentials.accessKeyId,
        credentials.secretAccessKey,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
    const endpoint = line.toString().trim();
    const store = new S3ObjectStore({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true });
    await store.put('inbox', 'first.csv', 'a\n1\n');
    await store.put('inbox', 'second file.csv', 'a\n2\n');
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;

    const delivered: S3EventRecord[] = [];
    const gateway = await startGateway({
      dataDir,
      credentials,
      onObjectCreated: async (record) => {
        delivered.push(record as S3EventRecord);
      },
    });
    try {
      const deadline = Date.now() + 5000;
      while (delivered.length < 2 && Date.now() < deadline) await sleep(10);
      expect(delivered.map((r) => r.s3.object.key)).toEqual(['first.csv', 'second+file.csv']);
    } finally {
      await gateway.close();
    }
    // Delivered once: a further restart has nothing left to replay.
    const again: S3EventRecord[] = [];
    const third = await startGateway({
      dataDir,
      credentials,
      onObjectCreated: async (record) => {
        again.push(record as S3EventRecord);
      },
    });
    await sleep(200);
    await third.close();
    expect(again).toEqual([]);
  }, 30_000);
});
