/**
 * The upload API end to end: `PUT /v1/files/{name}`: the answer, the rows that follow, the status route it
 * names.
 * Set-up and helpers: test/harness/upload-api.ts and upload-client.ts.
 */
import { describe, expect, it } from 'vitest';
import { db, running, UUID_V7, useUploadApi } from '../../../harness/upload-api.js';
import { accepted, put, spoolEntries, waitForVerdict } from '../../../harness/upload-client.js';
import { api } from '../../../harness/upload-service.js';

useUploadApi();

describe('PUT /v1/files/{name}', () => {
  it('answers 202 with the ingestion id, and the rows follow', async () => {
    const response = await api(running.service, '/v1/files/orders/first.csv', {
      method: 'PUT',
      body: 'id,amount,note\n1,10.50,a\n2,3,b\n',
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as { ingestionId: string; status: string };
    expect(body).toMatchObject({ status: 'queued', pipeline: 'orders', bytes: 31, replayed: false });
    await running.waitFinished(1);
    const rows = await db.pool.query('SELECT id, amount::text, note FROM up.orders ORDER BY id');
    expect(rows.rows).toEqual([
      { id: '1', amount: '10.50', note: 'a' },
      { id: '2', amount: '3.00', note: 'b' },
    ]);
    const status = await api(running.service, `/v1/ingestions/${body.ingestionId}`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      id: body.ingestionId,
      status: 'loaded',
      pipeline: 'orders',
      source: 'upload:///orders/first.csv',
      rowsLoaded: 2,
      rowsRejected: 0,
    });
  });

  it('answers with a Location header naming the status route, and the ingestion id is the spool id', async () => {
    const response = await put(running.service, 'orders/located.csv', 'id,amount,note\n3,1,c\n');
    const body = await accepted(response);
    expect(body.ingestionId).toMatch(UUID_V7);
    expect(response.headers.get('location')).toBe(`/v1/ingestions/${body.ingestionId}`);
    expect(await waitForVerdict(running.service, body.ingestionId)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 1,
    });
    const entries = await spoolEntries(running.spoolDir);
    expect(entries.done).toContain(body.ingestionId);
  });
});
