/**
 * What the upload API's end-to-end tests (test/integration/server/upload-api/) share: each file calls
 * useUploadApi() once and gets its own database and upload service (`db` and `running` below) for its
 * tests, and the helpers here read the answers, the spool and the ledger. Real HTTP (fetch, and node:http
 * where a client must misbehave), a real spool on disk and a real PostgreSQL: nothing is mocked.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect } from 'vitest';
import type { UploadService } from '../../src/server/service.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { api, BOOTSTRAP, type RunningService, runService, uploadConfig } from './upload-service.js';

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
export const SPOOL_STATES = ['tmp', 'incoming', 'processing', 'done', 'failed'] as const;

export interface ErrorBody {
  error: { code: string; message: string };
}

export interface AcceptedBody {
  ingestionId: string;
  status: string;
  pipeline: string;
  bytes: number;
  replayed: boolean;
}

export interface IngestionBody {
  id: string;
  pipeline: string;
  source: string;
  status: string;
  rowsLoaded: number;
  rowsRejected: number;
  error?: { code: string; message: string };
}

/** Polls `check` until it returns a value other than undefined; bounded in attempts and time. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 1000 && Date.now() < deadline; attempt++) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The ingestion once it reached a verdict (not queued, not processing). */
export async function waitForStatus(service: UploadService, id: string): Promise<IngestionBody> {
  return until(`ingestion ${id} to finish`, async () => {
    const response = await api(service, `/v1/ingestions/${id}`);
    if (response.status !== 200) return undefined;
    const body = (await response.json()) as IngestionBody;
    return body.status === 'queued' || body.status === 'processing' ? undefined : body;
  });
}

export function put(
  service: UploadService,
  name: string,
  body: RequestInit['body'],
  init: RequestInit & { token?: string | null } = {},
): Promise<Response> {
  return api(service, `/v1/files/${name}`, { method: 'PUT', body, ...init });
}

export async function accepted(response: Response): Promise<AcceptedBody> {
  const text = await response.text();
  expect(response.status, text).toBe(202);
  return JSON.parse(text) as AcceptedBody;
}

export async function refused(response: Response, status: number, code: string): Promise<ErrorBody['error']> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

/** Every path under the spool directory, relative to it, sorted. */
export async function spoolTree(spoolDir: string): Promise<string[]> {
  const all = await readdir(spoolDir, { recursive: true });
  return all.map((p) => p.split(path.sep).join('/')).sort();
}

/** The entry ids in each spool state. */
export async function spoolEntries(
  spoolDir: string,
): Promise<Record<(typeof SPOOL_STATES)[number], string[]>> {
  const result = {} as Record<(typeof SPOOL_STATES)[number], string[]>;
  for (const state of SPOOL_STATES) result[state] = (await readdir(path.join(spoolDir, state))).sort();
  return result;
}

/** All entry ids in any state: a refused upload must not add one. */
export async function allEntryIds(spoolDir: string): Promise<string[]> {
  const entries = await spoolEntries(spoolDir);
  // An entry moving on (incoming → processing → done) while the states are read may show up twice.
  return [...new Set(SPOOL_STATES.flatMap((state) => entries[state]))].sort();
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

/** Resolves once tmp/ and incoming/ are empty (bounded); returns what was left at the end. */
export async function pendingSettled(
  spoolDir: string,
  timeoutMs = 3000,
): Promise<{ tmp: string[]; incoming: string[] }> {
  const deadline = Date.now() + timeoutMs;
  let entries = await spoolEntries(spoolDir);
  while ((entries.tmp.length > 0 || entries.incoming.length > 0) && Date.now() < deadline) {
    await sleep(50);
    entries = await spoolEntries(spoolDir);
  }
  return { tmp: entries.tmp, incoming: entries.incoming };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** Reads a node:http response to its end. */
export function readResponse(response: http.IncomingMessage): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () =>
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        text: Buffer.concat(chunks).toString('utf8'),
      }),
    );
    response.on('error', reject);
  });
}

export function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A request through node:http, which sends the path exactly as given (fetch would resolve `../` and
 * `%2e%2e` segments before sending). The body is sent whole; `response` never rejects on a write error
 * of a body the server chose not to read.
 */
export function rawRequest(
  service: UploadService,
  options: { method: string; path: string; headers?: http.OutgoingHttpHeaders; body?: Buffer | string },
): Promise<RawResponse> {
  return withTimeout(
    `answer to ${options.method} ${options.path}`,
    new Promise<RawResponse>((resolve, reject) => {
      const request = http.request({
        host: '127.0.0.1',
        port: service.port,
        method: options.method,
        path: options.path,
        headers: { authorization: `Bearer ${BOOTSTRAP}`, ...options.headers },
      });
      request.on('response', (response) => readResponse(response).then(resolve, reject));
      request.on('error', reject);
      request.end(options.body);
    }),
  );
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
