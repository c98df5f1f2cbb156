/**
 * Bad inputs through the S3 door on one machine: the local S3 gateway as `inlet dev` starts it
 * (`startLocalS3`: a new object in the inbox bucket is an event for the Lambda handler), fed by the real AWS
 * CLI (`/usr/bin/aws s3 cp`, a folder at a time, as a client syncs an export) and, for a key no command line
 * can carry (a NUL byte), by the S3 SDK. For each input: the put succeeds (the object is acknowledged), and
 * its ledger row under `s3://inlet-inbox/<key percent-encoded>` has the status and error code every door
 * reaches; refused files leave nothing in their tables. Also the gateway's presigned-URL ceilings.
 * The inputs are test/harness/bad-inputs.ts's, the same bytes every door is fed.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalS3, startLocalS3 } from '../../../src/local/s3.js';
import { localS3Settings } from '../../../src/local/settings.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import {
  B,
  badInputConfig,
  encodeKeyPath,
  expectedMainRows,
  HOSTILE_NAMES,
  hostileNameContent,
  type LedgerRow,
  ledgerRows,
  PLUS_SPACE_KEY,
  TABLES,
  tableRows,
  VERDICTS,
} from '../../harness/bad-inputs.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { type AwsCliOptions, awsCli, describeWithAwsCli } from '../gateway/aws-cli.js';

type Key = keyof typeof B;

/** The inputs sent with `aws s3 cp --recursive`; B19's full export goes first, on its own. */
const INPUTS: readonly Key[] = [
  'empty',
  'gzipBomb',
  'png',
  'noise',
  'formula',
  'nulAndInvalidUtf8',
  'windows1252Semicolons',
  'utf16Tabs',
  'ragged',
  'truncatedGzip',
  'truncatedParquet',
  'corruptXlsx',
  'replaceHeaderOnly',
  'replaceTruncated',
  'ratioGzip',
  'ratioDeflate',
  'ratioBrotli',
  'ratioZip',
];

/** B5/B17 keys the AWS CLI can send: a file of that name (no NUL: no filesystem or argv holds one). */
const CLI_NAMES = HOSTILE_NAMES.filter((n) => n.fs);

let work: string;
let db: TestDatabase;
let s3: LocalS3;
let cli: AwsCliOptions;
let store: S3ObjectStore;

const sourceOf = (key: string) => `s3://${s3.bucket}/${encodeKeyPath(key)}`;

/** The final ledger rows of `key`, once the event has been handled (bounded: 20 s). */
async function settled(key: string): Promise<LedgerRow[]> {
  const deadline = Date.now() + 20_000;
  for (let i = 0; i < 400; i++) {
    const rows = await ledgerRows(db.pool, sourceOf(key));
    if (rows.length > 0 || Date.now() > deadline) return rows;
    await sleep(50);
  }
  return [];
}

describeWithAwsCli('the S3 door: AWS CLI → local gateway → handler → ledger', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'inlet-bad-s3-'));
    await mkdir(join(work, 'home'));
    await mkdir(join(work, 'first'));
    await mkdir(join(work, 'batch'));
    await mkdir(join(work, 'names'));
    db = await createTestDatabase();
    s3 = await startLocalS3({
      dataDir: join(work, 'data'),
      config: badInputConfig(),
      pool: db.pool,
      logger: silentLogger,
      // Any free port: the default 9000 may be taken by `inlet dev` or another test file.
      settings: { ...localS3Settings({}), port: 0 },
    });
    cli = { endpoint: s3.endpoint, credentials: s3.credentials, home: join(work, 'home'), timeoutMs: 40_000 };
    store = new S3ObjectStore({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      credentials: s3.credentials,
      forcePathStyle: true,
    });

    await writeFile(join(work, 'first', B.replaceFull.name), B.replaceFull.bytes());
    await awsCli(cli, [
      's3',
      'cp',
      join(work, 'first', B.replaceFull.name),
      `s3://${s3.bucket}/${B.replaceFull.name}`,
    ]);
    expect(await settled(B.replaceFull.name)).toMatchObject([{ status: 'loaded', rows_loaded: 4 }]);

    for (const key of INPUTS) await writeFile(join(work, 'batch', B[key].name), B[key].bytes());
    await writeFile(join(work, 'batch', PLUS_SPACE_KEY), 'id,note\n701,plus space\n');
    await awsCli(cli, [
      's3',
      'cp',
      '--recursive',
      '--only-show-errors',
      join(work, 'batch'),
      `s3://${s3.bucket}/`,
    ]);
    for (const key of INPUTS) await settled(B[key].name);
  }, 60_000);

  afterAll(async () => {
    store?.close();
    await s3?.stop();
    await db?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe('a folder of bad files put with `aws s3 cp --recursive`: each acknowledged, each with its ledger row and code', () => {
    it.each(INPUTS.map((key) => [B[key].label, key] as const))('%s', async (_label, key) => {
      const verdict = VERDICTS[key];
      const rows = await settled(B[key].name);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        status: verdict.status,
        error_code: verdict.code ?? null,
        rows_loaded: verdict.rowsLoaded,
        ...(verdict.rowsRejected === undefined ? {} : { rows_rejected: verdict.rowsRejected }),
      });
      if (verdict.message !== undefined) expect(rows[0]?.error_message).toMatch(verdict.message);
    });

    it('B7: the key a+b c.csv (a%2Bb+c.csv in its event) is loaded under exactly that name', async () => {
      expect(await settled(PLUS_SPACE_KEY)).toMatchObject([{ status: 'loaded', rows_loaded: 1 }]);
      expect(sourceOf(PLUS_SPACE_KEY)).toBe('s3://inlet-inbox/a%2Bb%20c.csv');
    });

    it('leaves main with exactly the rows of the files that loaded, capped empty, replace untouched', async () => {
      expect(await tableRows(db.pool, TABLES.main)).toEqual(
        [...expectedMainRows(INPUTS), '701:plus space'].sort(
          (a, b) => Number(a.split(':')[0]) - Number(b.split(':')[0]),
        ),
      );
      expect(await tableRows(db.pool, TABLES.capped)).toEqual([]);
      expect(await tableRows(db.pool, TABLES.replace)).toEqual(['1:a', '2:b', '3:c', '4:d']);
    });
  });

  describe('hostile keys (B5, B17)', () => {
    it('records keys the AWS CLI sends (%2f, reserved names, control characters) percent-encoded', async () => {
      for (const [i, { name }] of CLI_NAMES.entries())
        await writeFile(join(work, 'names', name), hostileNameContent(i));
      await awsCli(cli, [
        's3',
        'cp',
        '--recursive',
        '--only-show-errors',
        join(work, 'names'),
        `s3://${s3.bucket}/names/`,
      ]);
      for (const { label, name } of CLI_NAMES) {
        const source = sourceOf(`names/${name}`);
        expect(source, label).toMatch(/^s3:\/\/inlet-inbox\/[\x21-\x7e]+$/);
        expect(await settled(`names/${name}`), label).toMatchObject([{ status: 'loaded', rows_loaded: 1 }]);
      }
    });

    it('records a key with a NUL byte (sent by the SDK) as %00, and a 300-character key', async () => {
      const keys = ['sdk/b17-nul\u0000name.csv', `sdk/b05-${'n'.repeat(292)}.csv`, 'sdk/../b05-dots.csv'];
      for (const [i, key] of keys.entries()) await store.put(s3.bucket, key, hostileNameContent(50 + i));
      expect(sourceOf(keys[0] as string)).toBe('s3://inlet-inbox/sdk/b17-nul%00name.csv');
      for (const key of keys)
        expect(await settled(key), key).toMatchObject([{ status: 'loaded', rows_loaded: 1 }]);
    });
  });

  describe('presigned URLs (issue 13 item 8)', () => {
    it('refuses a URL the AWS CLI signs for longer than 604,800 s with 400 AuthorizationQueryParametersError', async () => {
      await store.put(s3.bucket, 'presign/p.csv', 'id,note\n1,p\n');
      const url = (
        await awsCli(cli, ['s3', 'presign', `s3://${s3.bucket}/presign/p.csv`, '--expires-in', '604801'])
      ).trim();
      const response = await fetch(url);
      expect(response.status).toBe(400);
      expect(await response.text()).toContain('<Code>AuthorizationQueryParametersError</Code>');
      const week = (
        await awsCli(cli, ['s3', 'presign', `s3://${s3.bucket}/presign/p.csv`, '--expires-in', '604800'])
      ).trim();
      expect((await fetch(week)).status).toBe(200);
    });

    it('refuses a URL whose X-Amz-Date is in 2099 with 403', async () => {
      const endpoint = new URL(s3.endpoint);
      const signer = new SignatureV4({
        credentials: s3.credentials,
        region: 'us-east-1',
        service: 's3',
        sha256: Sha256,
      });
      const signed = await signer.presign(
        {
          method: 'GET',
          protocol: 'http:',
          hostname: endpoint.hostname,
          port: Number(endpoint.port),
          path: `/${s3.bucket}/presign/p.csv`,
          headers: { host: endpoint.host },
          query: {},
        },
        { signingDate: new Date(Date.UTC(2099, 0, 1)), expiresIn: 60 },
      );
      const query = new URLSearchParams(signed.query as Record<string, string>).toString();
      const response = await fetch(`${s3.endpoint}${signed.path}?${query}`);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('Request is not valid yet');
    });
  });
});
