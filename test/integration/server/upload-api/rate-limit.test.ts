/**
 * The upload API end to end: the rate limit per token: 429 with Retry-After, another token unaffected.
 * Set-up and helpers: test/harness/upload-api.ts and upload-client.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../../../src/server/tokens.js';
import { db, expectNothingStored, orderRows, useUploadApi } from '../../../harness/upload-api.js';
import { accepted, put, refused, waitForVerdict } from '../../../harness/upload-client.js';
import { type RunningService, runService, uploadConfig } from '../../../harness/upload-service.js';

useUploadApi();

describe('the rate limit', () => {
  let limited: RunningService;

  beforeAll(async () => {
    limited = await runService(db, uploadConfig('up'), { rateLimitPerMinute: 3 });
  });

  afterAll(async () => {
    await limited?.stop();
  });

  it('answers the 4th upload in a minute with the same token 429, while another token is accepted', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await accepted(
        await put(limited.service, `orders/limited-${i}.csv`, `id,amount,note\n${3800 + i},1,limited\n`),
      );
      ids.push(answer.ingestionId);
    }
    await expectNothingStored(limited.spoolDir, async () => {
      const fourth = await put(limited.service, 'orders/limited-3.csv', 'id,amount,note\n3803,1,limited\n');
      const retryAfter = Number(fourth.headers.get('retry-after'));
      const error = await refused(fourth, 429, 'rate_limited');
      expect(error.message).toContain('3 uploads');
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
    });

    const other = await createToken(db.pool, { name: 'rate-limit-other' });
    const answer = await accepted(
      await put(limited.service, 'orders/limited-other.csv', 'id,amount,note\n3804,1,other\n', {
        token: other.token,
      }),
    );
    ids.push(answer.ingestionId);
    for (const id of ids)
      expect(await waitForVerdict(limited.service, id)).toMatchObject({ status: 'loaded' });
    expect((await orderRows([3800, 3801, 3802, 3803, 3804])).map((r) => r.id)).toEqual([
      '3800',
      '3801',
      '3802',
      '3804',
    ]);
  });
});
