/**
 * GET /v1/ingestions/:id reads the ledger, then the spool. A worker that commits the final ledger row and moves
 * the entry to done/ between those two reads must not make the answer `failed` (`not_processed`): an entry leaves
 * processing/ only after its verdict is in the ledger, so the route reads the ledger again and answers with it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { InletConfig } from '../../../src/model/contract.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { buildApp } from '../../../src/server/app.js';
import { ServerMetrics } from '../../../src/server/metrics.js';
import { QueuedLedger } from '../../../src/server/queued-ledger.js';
import { Spool, type SpoolState } from '../../../src/server/spool.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { BOOTSTRAP, uploadConfig } from '../../harness/upload-service.js';

let db: TestDatabase;
let dir: string;
let app: FastifyInstance | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'inlet-status-race-'));
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

/** A spool whose next locate() first lets "the worker" finish the entry: the interleaving the race needs. */
class SpoolFinishingBeforeLocate extends Spool {
  beforeLocate: (() => Promise<void>) | undefined;
  override async locate(id: string): Promise<SpoolState | undefined> {
    const hook = this.beforeLocate;
    this.beforeLocate = undefined;
    await hook?.();
    return super.locate(id);
  }
}

it('answers the ledger verdict when the worker finishes between the ledger read and the spool read', async () => {
  const config: InletConfig = uploadConfig('status_race');
  const pipeline = config.pipelines[0]!;
  const spool = new SpoolFinishingBeforeLocate(path.join(dir, 'spool'), { minFreeBytes: 0 });
  await spool.open();
  // Accepted, and its `queued` row not yet flushed: the route's first ledger read finds nothing.
  const entry = await spool.accept(Readable.from([Buffer.from('id\n1\n')]), {
    name: 'orders/race.csv',
    maxBytes: 1e6,
    meta: { pipeline: pipeline.name },
  });
  spool.beforeLocate = async () => {
    const claimed = await spool.claim();
    expect(claimed?.id).toBe(entry.id);
    await db.pool.query(QueuedLedger.sql(1), QueuedLedger.row(pipeline, entry));
    await db.pool.query(
      `UPDATE inlet.ingestions SET status = 'loaded', rows_loaded = 1, started_at = now(), finished_at = now()
        WHERE id = $1`,
      [entry.id],
    );
    await spool.finish(claimed!, 'done');
  };
  app = await buildApp({
    spool,
    config,
    pool: db.pool,
    logger: silentLogger,
    metrics: new ServerMetrics({ spoolDepth: () => spool.depth() }),
    maxUploadBytes: 1e6,
    rateLimitPerMinute: 600,
    bootstrapToken: BOOTSTRAP,
  });
  const answer = await app.inject({
    method: 'GET',
    url: `/v1/ingestions/${entry.id}`,
    headers: { authorization: `Bearer ${BOOTSTRAP}` },
  });
  expect(spool.beforeLocate).toBeUndefined();
  expect(answer.statusCode).toBe(200);
  expect(answer.json()).toMatchObject({ id: entry.id, status: 'loaded', rowsLoaded: 1 });
});
