/**
 * The upload API end to end: Idempotency-Key on uploads: a repeat replays the first answer, concurrent
 * repeats store once (idempotency.test.ts has the reuse rules).
 * Set-up and helpers: test/harness/upload-api.ts and upload-client.ts.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createToken } from '../../../../src/server/tokens.js';
import {
  db,
  expectNothingStored,
  orderRows,
  running,
  useUploadApi,
  withTimeout,
} from '../../../harness/upload-api.js';
import {
  accepted,
  allEntryIds,
  pendingSettled,
  put,
  refused,
  waitForVerdict,
} from '../../../harness/upload-client.js';

useUploadApi();

describe('Idempotency-Key', () => {
  async function ledgerRowsFor(uri: string): Promise<string[]> {
    const { rows } = await db.pool.query<{ id: string }>(
      'SELECT id FROM inlet.ingestions WHERE source_uri = $1',
      [uri],
    );
    return rows.map((r) => r.id);
  }

  it('answers a repeated key with the first ingestion and stores the file once', async () => {
    const key = randomUUID();
    const idsBefore = new Set(await allEntryIds(running.spoolDir));
    const body = 'id,amount,note\n3900,1,once\n';
    const first = await accepted(
      await put(running.service, 'orders/idem-seq.csv', body, { headers: { 'idempotency-key': key } }),
    );
    expect(first.replayed).toBe(false);
    const second = await accepted(
      await put(running.service, 'orders/idem-seq.csv', body, { headers: { 'idempotency-key': key } }),
    );
    expect(second).toMatchObject({ ingestionId: first.ingestionId, replayed: true });
    // The key reused for another name and body is refused (idempotency.test.ts has the details).
    await refused(
      await put(running.service, 'orders/idem-seq-other.csv', 'id,amount,note\n3901,1,other\n', {
        headers: { 'idempotency-key': key },
      }),
      409,
      'idempotency_key_reused',
    );

    expect(await waitForVerdict(running.service, first.ingestionId)).toMatchObject({ status: 'loaded' });
    const newIds = (await allEntryIds(running.spoolDir)).filter((id) => !idsBefore.has(id));
    expect(newIds).toEqual([first.ingestionId]);
    expect(await ledgerRowsFor('upload:///orders/idem-seq.csv')).toEqual([first.ingestionId]);
    expect(await ledgerRowsFor('upload:///orders/idem-seq-other.csv')).toEqual([]);
    expect(await orderRows([3900, 3901])).toEqual([{ id: '3900', amount: '1.00', note: 'once' }]);
  });

  it('keeps keys per token: the same key from another token is a new upload', async () => {
    const key = randomUUID();
    const other = await createToken(db.pool, { name: 'idem-other' });
    const a = await accepted(
      await put(running.service, 'orders/idem-a.csv', 'id,amount,note\n3910,1,a\n', {
        headers: { 'idempotency-key': key },
      }),
    );
    const b = await accepted(
      await put(running.service, 'orders/idem-b.csv', 'id,amount,note\n3911,1,b\n', {
        headers: { 'idempotency-key': key },
        token: other.token,
      }),
    );
    expect(b.ingestionId).not.toBe(a.ingestionId);
    expect(b.replayed).toBe(false);
    expect(await waitForVerdict(running.service, a.ingestionId)).toMatchObject({ status: 'loaded' });
    expect(await waitForVerdict(running.service, b.ingestionId)).toMatchObject({ status: 'loaded' });
  });

  // 5 as a client retrying in a hurry would; 8 is more than the database pool's 4 connections, so the
  // requests that lose the race must not each wait for a second connection while holding one.
  it.each([5, 8])(
    'answers %i concurrent requests with one key with one ingestion, stored exactly once',
    async (n) => {
      const key = randomUUID();
      const name = `orders/idem-concurrent-${n}.csv`;
      const idsBefore = new Set(await allEntryIds(running.spoolDir));
      const row = 3920 + n * 2;
      const body = `id,amount,note\n${row},1,concurrent\n${row + 1},2,${'p'.repeat(10_000)}\n`;
      const responses = await withTimeout(
        `answers to ${n} concurrent uploads`,
        Promise.all(
          Array.from({ length: n }, () =>
            put(running.service, name, body, { headers: { 'idempotency-key': key } }),
          ),
        ),
        30_000,
      );
      const answers = await Promise.all(responses.map(accepted));
      const ids = new Set(answers.map((a) => a.ingestionId));
      expect(ids.size).toBe(1);
      const [id] = [...ids] as [string];
      expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
      expect(answers.filter((a) => a.replayed)).toHaveLength(n - 1);

      expect(await waitForVerdict(running.service, id)).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
      expect(await pendingSettled(running.spoolDir)).toEqual({ tmp: [], incoming: [] });
      const newIds = (await allEntryIds(running.spoolDir)).filter((entry) => !idsBefore.has(entry));
      expect(newIds).toEqual([id]);
      expect(await ledgerRowsFor(`upload:///${name}`)).toEqual([id]);
      const { rows } = await db.pool.query('SELECT ingestion_id FROM inlet.upload_keys WHERE key = $1', [
        key,
      ]);
      expect(rows).toEqual([{ ingestion_id: id }]);
    },
  );

  it('refuses a key that is not 1 to 255 visible ASCII characters', async () => {
    await expectNothingStored(running.spoolDir, async () => {
      for (const key of ['x'.repeat(256), 'has space']) {
        const response = await put(running.service, 'orders/idem-bad.csv', 'id,amount,note\n3930,1,x\n', {
          headers: { 'idempotency-key': key },
        });
        await refused(response, 400, 'invalid_idempotency_key');
      }
    });
  });
});
