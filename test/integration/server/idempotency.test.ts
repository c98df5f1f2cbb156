/**
 * Idempotency-Key as payment APIs treat it: the same request again replays the first answer (its
 * ingestion, pipeline and current status) and stores nothing; the key reused for a different body, name
 * or pipeline is 409 idempotency_key_reused and stores nothing. Real HTTP, spool and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { db, running, useUploadApi } from '../../harness/upload-api.js';
import {
  type AcceptedBody,
  accepted,
  allEntryIds,
  pendingSettled,
  put,
  refused,
  waitForVerdict,
} from '../../harness/upload-client.js';

useUploadApi();

const csv = (...rows: string[]) => `id,amount,note\n${rows.map((r) => `${r}\n`).join('')}`;
const withKey = (key: string) => ({ headers: { 'idempotency-key': key } });

async function orderCount(ids: number[]): Promise<number> {
  const table = await db.pool.query<{ t: string | null }>(`SELECT to_regclass('up.orders')::text AS t`);
  if (table.rows[0]?.t === null) return 0;
  const { rows } = await db.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM up.orders WHERE id = ANY($1)',
    [ids],
  );
  return rows[0]?.n ?? 0;
}

async function ledgerIdsFor(uri: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    'SELECT id::text AS id FROM inlet.ingestions WHERE source_uri = $1 ORDER BY id',
    [uri],
  );
  return rows.map((r) => r.id);
}

async function keyRows(key: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ ingestion_id: string }>(
    'SELECT ingestion_id::text AS ingestion_id FROM inlet.upload_keys WHERE key = $1',
    [key],
  );
  return rows.map((r) => r.ingestion_id);
}

/** Runs `act` and asserts it added no spool entry and no ledger row, and left nothing in tmp/. */
async function expectNothingStored(act: () => Promise<void>): Promise<void> {
  const entriesBefore = new Set(await allEntryIds(running.spoolDir));
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM inlet.ingestions');
  await act();
  expect(await pendingSettled(running.spoolDir)).toEqual({ tmp: [], incoming: [] });
  expect((await allEntryIds(running.spoolDir)).filter((id) => !entriesBefore.has(id))).toEqual([]);
  const after = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM inlet.ingestions');
  expect(after.rows[0]?.n).toBe(rows[0]?.n);
}

describe('Idempotency-Key: the same request again', () => {
  it('replays the first answer with the status the ingestion has now, and loads the rows once', async () => {
    const key = randomUUID();
    const body = csv('7001,1,first');
    const first = await accepted(await put(running.service, 'orders/idem-same.csv', body, withKey(key)));
    expect(first).toMatchObject({ replayed: false, status: 'queued', pipeline: 'orders' });
    expect(await waitForVerdict(running.service, first.ingestionId)).toMatchObject({ status: 'loaded' });

    // Once loaded, a replay says so: a client that lost the first answer learns the outcome.
    const again = await accepted(await put(running.service, 'orders/idem-same.csv', body, withKey(key)));
    expect(again).toEqual({
      ingestionId: first.ingestionId,
      status: 'loaded',
      pipeline: 'orders',
      bytes: Buffer.byteLength(body),
      replayed: true,
    } satisfies AcceptedBody);
    // Naming the pipeline the name routes to anyway is the same request.
    const explicit = await accepted(
      await put(running.service, 'orders/idem-same.csv?pipeline=orders', body, withKey(key)),
    );
    expect(explicit).toMatchObject({ ingestionId: first.ingestionId, status: 'loaded', replayed: true });

    await pendingSettled(running.spoolDir);
    expect(await ledgerIdsFor('upload:///orders/idem-same.csv')).toEqual([first.ingestionId]);
    expect(await orderCount([7001])).toBe(1);
    expect(await keyRows(key)).toEqual([first.ingestionId]);
  });

  it('replays a rejected ingestion as rejected', async () => {
    const key = randomUUID();
    // Every row fails validation (id must be a bigint): over the pipeline's reject ratio, so rejected.
    const body = csv('not-a-number,1,x', 'also-not,2,y');
    const first = await accepted(await put(running.service, 'orders/idem-rejected.csv', body, withKey(key)));
    expect(await waitForVerdict(running.service, first.ingestionId)).toMatchObject({ status: 'rejected' });
    const again = await accepted(await put(running.service, 'orders/idem-rejected.csv', body, withKey(key)));
    expect(again).toMatchObject({ ingestionId: first.ingestionId, status: 'rejected', replayed: true });
  });
});

describe('Idempotency-Key reused for a different request', () => {
  it('refuses a different body with 409 idempotency_key_reused and stores nothing', async () => {
    const key = randomUUID();
    const first = await accepted(
      await put(running.service, 'orders/idem-body.csv', csv('7010,1,original'), withKey(key)),
    );
    await expectNothingStored(async () => {
      const error = await refused(
        await put(running.service, 'orders/idem-body.csv', csv('7011,1,changed'), withKey(key)),
        409,
        'idempotency_key_reused',
      );
      expect(error.message).toContain('body');
      expect(error.message).toContain(first.ingestionId);
      expect(error.message).toMatch(/new Idempotency-Key/);
    });
    expect(await waitForVerdict(running.service, first.ingestionId)).toMatchObject({ status: 'loaded' });
    expect(await orderCount([7010])).toBe(1);
    expect(await orderCount([7011])).toBe(0);
    expect(await keyRows(key)).toEqual([first.ingestionId]);
  });

  it('refuses a different file name with 409, naming both', async () => {
    const key = randomUUID();
    const body = csv('7020,1,name');
    const first = await accepted(await put(running.service, 'orders/idem-name-a.csv', body, withKey(key)));
    await expectNothingStored(async () => {
      const error = await refused(
        await put(running.service, 'orders/idem-name-b.csv', body, withKey(key)),
        409,
        'idempotency_key_reused',
      );
      expect(error.message).toContain('orders/idem-name-a.csv');
      expect(error.message).toContain('orders/idem-name-b.csv');
    });
    expect(await waitForVerdict(running.service, first.ingestionId)).toMatchObject({ status: 'loaded' });
    expect(await ledgerIdsFor('upload:///orders/idem-name-b.csv')).toEqual([]);
  });

  it('refuses a different pipeline with 409, naming both', async () => {
    const key = randomUUID();
    const body = csv('7030,1,pipeline');
    const first = await accepted(await put(running.service, 'orders/idem-pipe.csv', body, withKey(key)));
    await expectNothingStored(async () => {
      const error = await refused(
        await put(running.service, 'orders/idem-pipe.csv?pipeline=events', body, withKey(key)),
        409,
        'idempotency_key_reused',
      );
      expect(error.message).toContain('"orders"');
      expect(error.message).toContain('"events"');
    });
    expect(await waitForVerdict(running.service, first.ingestionId)).toMatchObject({ status: 'loaded' });
  });

  // 8 is more than the database pool's 4 connections: requests that lose the race must not each wait for
  // a second connection while holding one.
  it.each([4, 8])(
    'lets exactly one of %i racing requests with one key and two bodies win; the same body replays, the other is 409',
    async (n) => {
      const key = randomUUID();
      const name = `orders/idem-race-${n}.csv`;
      const rowA = 7100 + n * 2;
      const rowB = rowA + 1;
      // Big enough that the bodies are still streaming while the others arrive.
      const bodies = [csv(`${rowA},1,${'a'.repeat(200_000)}`), csv(`${rowB},1,${'b'.repeat(200_000)}`)];
      const entriesBefore = new Set(await allEntryIds(running.spoolDir));
      const sent = Array.from({ length: n }, (_, i) => i % 2);
      const responses = await Promise.all(
        sent.map((which) => put(running.service, name, bodies[which], withKey(key))),
      );
      const answers = await Promise.all(
        responses.map(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> })),
      );
      const winners = answers.filter((a) => a.status === 202 && a.body.replayed === false);
      expect(winners, JSON.stringify(answers)).toHaveLength(1);
      const winnerIndex = answers.indexOf(winners[0] as (typeof answers)[number]);
      const winningBody = sent[winnerIndex];
      const id = (winners[0] as (typeof answers)[number]).body.ingestionId as string;
      for (const [i, answer] of answers.entries()) {
        if (i === winnerIndex) continue;
        if (sent[i] === winningBody) {
          expect(answer.status, JSON.stringify(answer.body)).toBe(202);
          expect(answer.body).toMatchObject({ ingestionId: id, replayed: true, pipeline: 'orders' });
        } else {
          expect(answer.status, JSON.stringify(answer.body)).toBe(409);
          expect(answer.body).toMatchObject({ error: { code: 'idempotency_key_reused' } });
        }
      }

      expect(await waitForVerdict(running.service, id)).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
      expect(await pendingSettled(running.spoolDir)).toEqual({ tmp: [], incoming: [] });
      expect((await allEntryIds(running.spoolDir)).filter((e) => !entriesBefore.has(e))).toEqual([id]);
      expect(await ledgerIdsFor(`upload:///${name}`)).toEqual([id]);
      expect(await keyRows(key)).toEqual([id]);
      expect(await orderCount([winningBody === 0 ? rowA : rowB])).toBe(1);
      expect(await orderCount([winningBody === 0 ? rowB : rowA])).toBe(0);
    },
  );
});
