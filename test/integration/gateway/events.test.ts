import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { describe, expect, it } from 'vitest';
import type { S3EventRecordLike } from '../../../src/gateway/server.js';
import { makeDataDir, startTestGateway } from './harness.js';

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('object-created events', () => {
  it('fires one AWS-shaped record per created object, in order, with S3-encoded keys', async () => {
    const records: S3EventRecordLike[] = [];
    const t = await startTestGateway({
      buckets: ['events'],
      onObjectCreated: async (record) => {
        records.push(record);
      },
    });
    try {
      const Bucket = 'events';
      await t.client.send(new PutObjectCommand({ Bucket, Key: 'a b c.csv', Body: 'one' }));
      await t.client.send(new PutObjectCommand({ Bucket, Key: 'x+y/ü.csv', Body: 'two' }));
      await t.client.send(
        new CopyObjectCommand({ Bucket, Key: 'copied.csv', CopySource: `${Bucket}/a%20b%20c.csv` }),
      );
      await new Upload({
        client: t.client,
        params: { Bucket, Key: 'multi.csv', Body: Buffer.alloc(6 * 1024 * 1024, 1) },
      }).done();
      await t.client.send(new DeleteObjectCommand({ Bucket, Key: 'copied.csv' }));
      await until(() => records.length >= 4);

      expect(records.map((r) => r.eventName)).toEqual([
        'ObjectCreated:Put',
        'ObjectCreated:Put',
        'ObjectCreated:Copy',
        'ObjectCreated:CompleteMultipartUpload',
      ]);
      expect(records.map((r) => r.s3.object.key)).toEqual([
        'a+b+c.csv',
        'x%2By/%C3%BC.csv',
        'copied.csv',
        'multi.csv',
      ]);

      const first = records[0]!;
      expect(first).toMatchObject({
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        userIdentity: { principalId: expect.any(String) },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': expect.any(String), 'x-amz-id-2': expect.any(String) },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: expect.any(String),
          bucket: {
            name: 'events',
            ownerIdentity: { principalId: expect.any(String) },
            arn: 'arn:aws:s3:::events',
          },
          object: { key: 'a+b+c.csv', size: 3, eTag: createHash('md5').update('one').digest('hex') },
        },
      });
      expect(new Date(first.eventTime).toISOString()).toBe(first.eventTime);
      expect('versionId' in first.s3.object).toBe(false);
      const head = await t.client.send(new HeadObjectCommand({ Bucket, Key: 'a b c.csv' }));
      expect(`"${first.s3.object.eTag}"`).toBe(head.ETag);
      expect(records[3]!.s3.object.eTag).toMatch(/^[0-9a-f]{32}-2$/);

      const sequencers = records.map((r) => r.s3.object.sequencer);
      expect(new Set(sequencers.map((s) => s.length)).size).toBe(1);
      expect([...sequencers].sort()).toEqual(sequencers);
      expect(new Set(sequencers).size).toBe(sequencers.length);
      // The key decodes back exactly as consumers are told to decode it: `+` first, then percent-escapes.
      const decode = (key: string) => decodeURIComponent(key.replace(/\+/g, ' '));
      expect(records.map((r) => decode(r.s3.object.key))).toEqual([
        'a b c.csv',
        'x+y/ü.csv',
        'copied.csv',
        'multi.csv',
      ]);
    } finally {
      await t.stop();
    }
  });

  it('retries a failing handler with backoff until it succeeds, without holding up the response', async () => {
    const attempts: number[] = [];
    let calls = 0;
    const t = await startTestGateway({
      buckets: ['retry'],
      eventRetry: { baseDelayMs: 20 },
      onObjectCreated: async () => {
        calls++;
        attempts.push(Date.now());
        if (calls < 3) throw new Error(`handler failure ${calls}`);
      },
    });
    try {
      const started = Date.now();
      await t.client.send(new PutObjectCommand({ Bucket: 'retry', Key: 'k.csv', Body: 'x' }));
      await until(() => calls >= 3);
      expect(calls).toBe(3);
      expect(attempts[2]! - attempts[0]!).toBeGreaterThanOrEqual(55); // 20 ms, then 40 ms
      expect(attempts[0]! - started).toBeLessThan(2000);
    } finally {
      await t.stop();
    }
  });

  it('gives up after the bounded attempts and keeps delivering later events', async () => {
    const seen: string[] = [];
    const t = await startTestGateway({
      buckets: ['giveup'],
      eventRetry: { attempts: 3, baseDelayMs: 5 },
      onObjectCreated: async (record) => {
        seen.push(record.s3.object.key);
        if (record.s3.object.key === 'poison') throw new Error('always fails');
      },
    });
    try {
      await t.client.send(new PutObjectCommand({ Bucket: 'giveup', Key: 'poison', Body: 'x' }));
      await t.client.send(new PutObjectCommand({ Bucket: 'giveup', Key: 'healthy', Body: 'y' }));
      await until(() => seen.includes('healthy'));
      expect(seen).toEqual(['poison', 'poison', 'poison', 'healthy']);
    } finally {
      await t.stop();
    }
  });
});

describe('durability across restarts', () => {
  it('serves the same objects, tags and buckets after the gateway restarts on the same directory', async () => {
    const dataDir = await makeDataDir();
    const first = await startTestGateway({ dataDir });
    await first.client.send(new CreateBucketCommand({ Bucket: 'durable' }));
    await first.client.send(
      new PutObjectCommand({
        Bucket: 'durable',
        Key: 'keep me.csv',
        Body: 'still here',
        Tagging: 'a=1',
        Metadata: { m: 'v' },
      }),
    );
    await first.client.send(new PutObjectCommand({ Bucket: 'durable', Key: 'overwritten', Body: 'old' }));
    await first.client.send(new PutObjectCommand({ Bucket: 'durable', Key: 'overwritten', Body: 'new' }));
    await first.stop();

    const second = await startTestGateway({ dataDir, buckets: ['durable', 'fresh'] });
    try {
      const got = await second.client.send(new GetObjectCommand({ Bucket: 'durable', Key: 'keep me.csv' }));
      expect(await got.Body?.transformToString()).toBe('still here');
      expect(got.Metadata).toEqual({ m: 'v' });
      expect(got.TagCount).toBe(1);
      const over = await second.client.send(new GetObjectCommand({ Bucket: 'durable', Key: 'overwritten' }));
      expect(await over.Body?.transformToString()).toBe('new');
      await second.client.send(new PutObjectCommand({ Bucket: 'fresh', Key: 'k', Body: 'v' }));
      const { readdir } = await import('node:fs/promises');
      // One data file and one sidecar per object: the overwritten data was removed.
      expect((await readdir(`${dataDir}/durable/objects`)).length).toBe(4);
    } finally {
      await second.stop();
    }
  });
});
