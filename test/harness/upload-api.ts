/**
 * What the upload API's end-to-end tests (test/integration/server/upload-api/) share beside the client's
 * view in upload-client.ts: each file calls useUploadApi() once and gets its own database and upload
 * service (`db` and `running` below) for its tests, and the helpers here check what a refused upload must
 * not leave in the spool or the ledger. Real HTTP (fetch, and node:http where a client must misbehave), a
 * real spool on disk and a real PostgreSQL: nothing is mocked.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect } from 'vitest';
import type { UploadService } from '../../src/server/service.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { allEntryIds } from './upload-client.js';
import { api, type RunningService, runService, uploadConfig } from './upload-service.js';

/**
 * The database of the test file that called useUploadApi(); the service loads into its schema `up`. Both
 * are set in its beforeAll: read them in tests and hooks, not when the file is imported.
 */
export let db: TestDatabase;
/** The upload service that test file talks to. */
export let running: RunningService;

/** The calling test file's own database and upload service: started before its tests, stopped after. */
export function useUploadApi(): void {
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query('CREATE SCHEMA up');
    running = await runService(db, uploadConfig('up'));
  });

  afterAll(async () => {
    await running?.stop();
    await db?.drop();
  });
}

export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Entry ids in the spool now that were not in `before`. */
export async function newEntryIds(spoolDir: string, before: readonly string[]): Promise<string[]> {
  const known = new Set(before);
  return (await allEntryIds(spoolDir)).filter((id) => !known.has(id));
}

/** `inlet_uploads_total` by outcome, read from the service's own /metrics. */
export async function uploadOutcomes(service: UploadService): Promise<Record<string, number>> {
  const text = await (await api(service, '/metrics')).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^inlet_uploads_total\{outcome="([a-z_]+)"\} (\d+)$/gm)) {
    counts[match[1] as string] = Number(match[2]);
  }
  return counts;
}

export async function ledgerIds(): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>('SELECT id::text AS id FROM inlet.ingestions');
  return rows.map((r) => r.id);
}

/**
 * Ledger rows that are neither in `known` nor a spool entry known before: what a refused upload must
 * not add. (The queued row of an earlier, accepted upload may still land late: that one is known.)
 */
export async function newLedgerIds(known: ReadonlySet<string>): Promise<string[]> {
  return (await ledgerIds()).filter((id) => !known.has(id));
}

/** Runs `act` and asserts it left no trace: no spool entry in any state, no ledger row. */
export async function expectNothingStored(spoolDir: string, act: () => Promise<void>): Promise<void> {
  const idsBefore = await allEntryIds(spoolDir);
  const known = new Set([...idsBefore, ...(await ledgerIds())]);
  await act();
  // Give anything still being written a moment to show up (or be cleaned up).
  await sleep(100);
  expect(await newEntryIds(spoolDir, idsBefore)).toEqual([]);
  expect(await newLedgerIds(known)).toEqual([]);
}

export function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A deterministic pseudo-random byte generator (xorshift32), so "random bytes" tests never flake. */
export function pseudoRandomBytes(count: number, seed: number): Buffer {
  const bytes = Buffer.alloc(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

export const md5Base64 = (bytes: string | Buffer) => createHash('md5').update(bytes).digest('base64');
export const sha256Base64 = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('base64');

export async function orderRows(
  ids: number[],
): Promise<{ id: string; amount: string | null; note: string | null }[]> {
  // The engine creates the table with the first load; run alone, a test may come before that.
  const table = await db.pool.query<{ t: string | null }>(`SELECT to_regclass('up.orders')::text AS t`);
  if (table.rows[0]?.t === null) return [];
  const { rows } = await db.pool.query<{ id: string; amount: string | null; note: string | null }>(
    'SELECT id::text, amount::text, note FROM up.orders WHERE id = ANY($1) ORDER BY id',
    [ids],
  );
  return rows;
}
