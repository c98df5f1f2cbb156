/**
 * onDrift: evolve through the upload service: a file that adds a column is loaded, and GET /v1/ingestions/{id}
 * and the list show the contract version it created, its columns and its DDL (the response schema would drop
 * a field it does not declare), while a file that adds nothing shows none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { accepted, type IngestionBody, put, waitForVerdict } from '../../harness/upload-client.js';
import { api, type RunningService, runService, uploadConfig } from '../../harness/upload-service.js';

let db: TestDatabase;
let running: RunningService;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query('CREATE SCHEMA evo');
  running = await runService(db, uploadConfig('evo', { onDrift: 'evolve' }));
});

afterAll(async () => {
  await running?.stop();
  await db?.drop();
});

describe('an evolving pipeline through the API', () => {
  it('shows the contract change on the ingestion that made it, and on no other', async () => {
    const adding = await accepted(
      await put(running.service, 'orders/evolve.csv', 'id,amount,note,channel\n1,2.50,x,web\n'),
    );
    const loaded = await waitForVerdict(running.service, adding.ingestionId);
    const change = {
      version: 2,
      columns: [{ name: 'channel', type: 'text', source: 'channel' }],
      ddl: 'ALTER TABLE "evo"."orders" ADD COLUMN "channel" text',
    };
    expect(loaded).toMatchObject({ status: 'loaded', rowsLoaded: 1, contractChange: change });
    const same = await accepted(await put(running.service, 'orders/same.csv', 'id,channel\n2,shop\n'));
    const plain = await waitForVerdict(running.service, same.ingestionId);
    expect(plain.status).toBe('loaded');
    expect(plain).not.toHaveProperty('contractChange');

    const response = await api(running.service, '/v1/ingestions?pipeline=orders');
    const { ingestions } = (await response.json()) as { ingestions: IngestionBody[] };
    expect(ingestions.find((i) => i.id === adding.ingestionId)).toMatchObject({ contractChange: change });
    const rows = await db.pool.query('SELECT id, channel FROM evo.orders ORDER BY id');
    expect(rows.rows).toEqual([
      { id: '1', channel: 'web' },
      { id: '2', channel: 'shop' },
    ]);
  });
});
