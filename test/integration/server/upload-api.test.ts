import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { api, type RunningService, runService, uploadConfig } from '../../harness/upload-service.js';

let db: TestDatabase;
let running: RunningService;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query('CREATE SCHEMA up');
  running = await runService(db, uploadConfig('up'));
});

afterAll(async () => {
  await running?.stop();
  await db?.drop();
});

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
});
