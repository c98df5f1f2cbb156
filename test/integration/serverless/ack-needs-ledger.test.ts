/**
 * SQS redelivery's promise: a message is acknowledged (left out of batchItemFailures) only once the ledger
 * holds an outcome for its object. A trigger makes PostgreSQL refuse the ledger row of a rejected file, as an
 * outage at the moment of the verdict would; the message must be delivered again, and once the ledger takes
 * writes, the redelivery records the verdict and is acknowledged.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { type Gateway, startGateway } from '../../../src/gateway/server.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { type HandlerDeps, handleEvent } from '../../../src/serverless/handler.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

const credentials = { accessKeyId: 'ack-test', secretAccessKey: 'ack-test-secret' };
const CONFIG = `
pipelines:
  - name: acked
    match: ["in/**"]
    table: public.acked
    createTable: true
    columns:
      - { name: id, type: bigint, nullable: false }
`;

let work: string;
let gateway: Gateway;
let db: TestDatabase;
let deps: HandlerDeps;

function sqsEvent(key: string): SQSEvent {
  const record = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    eventName: 'ObjectCreated:Put',
    eventTime: new Date().toISOString(),
    s3: { bucket: { name: 'inbox' }, object: { key } },
  };
  return {
    Records: [{ messageId: 'm1', eventSource: 'aws:sqs', body: JSON.stringify({ Records: [record] }) }],
  } as unknown as SQSEvent;
}

describe('SQS acknowledgement waits for the ledger', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'inlet-ack-'));
    await chmod(work, 0o755);
    db = await createTestDatabase();
    // The gateway only stores the object here; no handler is attached to its events.
    gateway = await startGateway({ dataDir: join(work, 'data'), credentials, buckets: ['inbox'] });
    const store = new S3ObjectStore({
      endpoint: gateway.endpoint,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
    });
    deps = { store, config: parseConfig(CONFIG, 'ack test'), pool: db.pool, logger: silentLogger };
    await store.put('inbox', 'in/bad.csv', 'id\nnot a number\n');
  });

  afterAll(async () => {
    await gateway?.close();
    await db?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('redelivers a rejected file whose verdict the ledger refused, and acknowledges it once recorded', async () => {
    await db.pool.query(`
      CREATE FUNCTION public.refuse_rejected() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'rejected' THEN RAISE EXCEPTION 'ledger refuses rejected rows (test)'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_rejected BEFORE INSERT OR UPDATE ON inlet.ingestions
        FOR EACH ROW EXECUTE FUNCTION public.refuse_rejected();`);
    expect(await handleEvent(sqsEvent('in/bad.csv'), deps)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm1' }],
    });

    await db.pool.query('DROP TRIGGER refuse_rejected ON inlet.ingestions');
    expect(await handleEvent(sqsEvent('in/bad.csv'), deps)).toEqual({ batchItemFailures: [] });
    const { rows } = await db.pool.query(
      `SELECT status FROM inlet.ingestions WHERE source_uri = 's3://inbox/in/bad.csv' AND status <> 'failed'`,
    );
    expect(rows).toEqual([{ status: 'rejected' }]);
  });
});
