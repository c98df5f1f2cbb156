/**
 * Debian's AWS CLI v2 against the local gateway: cp up and down (single and multipart), ls over more than one
 * page of keys, rm of a key and of a prefix.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../src/gateway/server.js';
import { type AwsCliOptions, awsCli, describeWithAwsCli } from './aws-cli.js';

const credentials = { accessKeyId: 'inlet-test', secretAccessKey: 'inlet-test-secret' };
const Bucket = 'cli';
const MiB = 1024 * 1024;
/** 1,100 keys in 11 "folders" of 100, generated in the order S3 lists them. */
const keys = Array.from(
  { length: 1100 },
  (_, i) => `many/p${String(Math.floor(i / 100)).padStart(2, '0')}/k${String(i).padStart(4, '0')}.txt`,
);

let work: string;
let gateway: Gateway;
let client: S3Client;
let cli: AwsCliOptions;

const aws = (...args: string[]) => awsCli(cli, args);

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Keys listed by `aws s3 ls --recursive` (its lines are `date time size key`). */
function listedKeys(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.replace(/^\S+\s+\S+\s+\d+\s/, ''));
}

describeWithAwsCli('AWS CLI v2 against the gateway', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'inlet-aws-cli-'));
    await chmod(work, 0o755);
    const home = join(work, 'home');
    await mkdir(home);
    gateway = await startGateway({ dataDir: join(work, 'data'), port: 0, credentials, buckets: [Bucket] });
    client = new S3Client({
      endpoint: gateway.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
    });
    cli = { endpoint: gateway.endpoint, credentials, home };
  });

  afterAll(async () => {
    client?.destroy();
    await gateway?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('cp uploads and downloads a small file byte for byte', async () => {
    const source = join(work, 'small.csv');
    const body = Buffer.from('id,name\n1,é ünïcode\n2,"quoted, comma"\n');
    await writeFile(source, body);
    await aws('s3', 'cp', source, `s3://${Bucket}/small/a b+c.csv`);
    const down = join(work, 'small-down.csv');
    await aws('s3', 'cp', `s3://${Bucket}/small/a b+c.csv`, down);
    expect((await readFile(down)).equals(body)).toBe(true);
  });

  it('presign: the gateway serves a URL valid for a week and refuses one the CLI signs for longer', async () => {
    await client.send(new PutObjectCommand({ Bucket, Key: 'presigned.csv', Body: 'id\n1\n' }));
    const presign = async (seconds: number) =>
      (await aws('s3', 'presign', `s3://${Bucket}/presigned.csv`, '--expires-in', String(seconds))).trim();
    const week = await fetch(await presign(604_800));
    expect(week.status).toBe(200);
    expect(await week.text()).toBe('id\n1\n');
    // The CLI signs whatever it is asked; S3, and so the gateway, refuses past 604,800 s.
    const century = await fetch(await presign(100 * 365 * 86_400));
    expect(century.status).toBe(400);
    expect(await century.text()).toContain('<Code>AuthorizationQueryParametersError</Code>');
    // Leave the bucket as the listing tests below expect it.
    await aws('s3', 'rm', `s3://${Bucket}/presigned.csv`);
  });

  it('cp uploads 50 MB as a multipart upload and downloads it intact', async () => {
    const source = join(work, 'big.bin');
    const body = randomBytes(50 * MiB);
    await writeFile(source, body);
    await aws('s3', 'cp', source, `s3://${Bucket}/big/big.bin`);
    const head = JSON.parse(
      await aws('s3api', 'head-object', '--bucket', Bucket, '--key', 'big/big.bin'),
    ) as {
      ETag: string;
      ContentLength: number;
    };
    // The CLI's default 8 MiB chunks: 50 MiB is 6 full parts and a 2 MiB last one; the ETag is their MD5-of-MD5s.
    const partSize = 8 * MiB;
    const partMd5s = Array.from({ length: 7 }, (_, i) =>
      createHash('md5')
        .update(body.subarray(i * partSize, (i + 1) * partSize))
        .digest(),
    );
    expect(head.ETag).toBe(`"${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-7"`);
    expect(head.ContentLength).toBe(50 * MiB);
    const down = join(work, 'big-down.bin');
    await aws('s3', 'cp', `s3://${Bucket}/big/big.bin`, down);
    expect(await sha256File(down)).toBe(await sha256File(source));
  });

  it('ls --recursive lists all of 1,100 keys (more than one ListObjectsV2 page)', async () => {
    // Through the SDK, 32 at a time: the gateway fsyncs every object, so this is its slowest step.
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let key = keys[next++]; key !== undefined; key = keys[next++]) {
          await client.send(new PutObjectCommand({ Bucket, Key: key, Body: key }));
        }
      }),
    );
    const listed = listedKeys(await aws('s3', 'ls', '--recursive', `s3://${Bucket}/many/`));
    expect(listed).toHaveLength(1100);
    expect(listed).toEqual(keys);
    // Without --recursive, the delimiter folds them into one common prefix.
    expect(await aws('s3', 'ls', `s3://${Bucket}/`)).toMatch(/^\s+PRE many\/$/m);
  });

  it('rm deletes one key, and --recursive a whole prefix', async () => {
    await aws('s3', 'rm', `s3://${Bucket}/small/a b+c.csv`);
    // Recursive commands take the path as a folder (the CLI lists `many/p00/`): its 100 keys go, the other 1,000 stay.
    const removed = await aws('s3', 'rm', '--recursive', `s3://${Bucket}/many/p00/`);
    expect(removed.split(/[\r\n]+/).filter((line) => line.startsWith('delete: '))).toHaveLength(100);
    const remaining = listedKeys(await aws('s3', 'ls', '--recursive', `s3://${Bucket}/`));
    expect(remaining).toEqual(['big/big.bin', ...keys.slice(100)]);
  });
});
