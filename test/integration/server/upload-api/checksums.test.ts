/**
 * The upload API end to end: Content-MD5 and x-amz-checksum-sha256: a match loads, a mismatch is 400 and
 * stores nothing.
 * Set-up and helpers: test/harness/upload-api.ts and upload-client.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  expectNothingStored,
  md5Base64,
  orderRows,
  running,
  sha256Base64,
  useUploadApi,
} from '../../../harness/upload-api.js';
import {
  accepted,
  type IngestionBody,
  pendingSettled,
  put,
  refused,
  waitForVerdict,
} from '../../../harness/upload-client.js';

useUploadApi();

describe('checksums', () => {
  const big = `id,amount,note\n${Array.from({ length: 600 }, (_, i) => `${40_000 + i},1,checksum ${i}\n`).join('')}`;

  it('accepts a body whose Content-MD5 matches', async () => {
    expect(big.length).toBeGreaterThan(8192);
    const answer = await accepted(
      await put(running.service, 'orders/md5-ok.csv', big, { headers: { 'content-md5': md5Base64(big) } }),
    );
    expect(await waitForVerdict(running.service, answer.ingestionId)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 600,
    });
  });

  it('accepts a body whose x-amz-checksum-sha256 matches', async () => {
    const body = 'id,amount,note\n4500,1,sha\n';
    const answer = await accepted(
      await put(running.service, 'orders/sha-ok.csv', body, {
        headers: { 'x-amz-checksum-sha256': sha256Base64(body) },
      }),
    );
    const ingestion = await waitForVerdict(running.service, answer.ingestionId);
    expect(ingestion).toMatchObject({ status: 'loaded' });
    expect((ingestion as IngestionBody & { sha256: string }).sha256).toBe(
      createHash('sha256').update(body).digest('hex'),
    );
  });

  it('refuses a Content-MD5 mismatch with 400 checksum_mismatch and stores nothing', async () => {
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/md5-bad.csv', big, {
        headers: { 'content-md5': md5Base64(`${big}tampered`) },
      });
      const error = await refused(response, 400, 'checksum_mismatch');
      expect(error.message).toContain('Content-MD5');
      expect(error.message).toContain(md5Base64(big));
    });
    expect(await pendingSettled(running.spoolDir)).toEqual({ tmp: [], incoming: [] });
  });

  it('refuses an x-amz-checksum-sha256 mismatch with 400 checksum_mismatch and stores nothing', async () => {
    await expectNothingStored(running.spoolDir, async () => {
      const body = 'id,amount,note\n4501,1,sha-bad\n';
      const response = await put(running.service, 'orders/sha-bad.csv', body, {
        headers: { 'x-amz-checksum-sha256': sha256Base64('something else') },
      });
      const error = await refused(response, 400, 'checksum_mismatch');
      expect(error.message).toContain('x-amz-checksum-sha256');
    });
    expect(await orderRows([4501])).toEqual([]);
  });

  it('refuses a mismatch even with an Idempotency-Key, and the key stays free for the retry', async () => {
    const key = randomUUID();
    const body = 'id,amount,note\n4502,1,retry\n';
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/sha-retry.csv', body, {
        headers: { 'idempotency-key': key, 'x-amz-checksum-sha256': sha256Base64('damaged') },
      });
      await refused(response, 400, 'checksum_mismatch');
    });
    const retry = await accepted(
      await put(running.service, 'orders/sha-retry.csv', body, {
        headers: { 'idempotency-key': key, 'x-amz-checksum-sha256': sha256Base64(body) },
      }),
    );
    expect(retry.replayed).toBe(false);
    expect(await waitForVerdict(running.service, retry.ingestionId)).toMatchObject({ status: 'loaded' });
  });
});
