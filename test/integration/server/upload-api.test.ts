/**
 * The upload API end to end: real HTTP (fetch, and node:http / node:net where a client must misbehave),
 * a real spool on disk and a real PostgreSQL database for this file. Nothing is mocked.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UploadService } from '../../../src/server/service.js';
import { createToken, revokeToken } from '../../../src/server/tokens.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import {
  api,
  BOOTSTRAP,
  type RunningService,
  runService,
  uploadConfig,
} from '../../harness/upload-service.js';

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

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SPOOL_STATES = ['tmp', 'incoming', 'processing', 'done', 'failed'] as const;

interface ErrorBody {
  error: { code: string; message: string };
}

interface AcceptedBody {
  ingestionId: string;
  status: string;
  pipeline: string;
  bytes: number;
  replayed: boolean;
}

interface IngestionBody {
  id: string;
  pipeline: string;
  source: string;
  status: string;
  rowsLoaded: number;
  rowsRejected: number;
  error?: { code: string; message: string };
}

/** Polls `check` until it returns a value other than undefined; bounded in attempts and time. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 1000 && Date.now() < deadline; attempt++) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The ingestion once it reached a verdict (not queued, not processing). */
async function waitForStatus(service: UploadService, id: string): Promise<IngestionBody> {
  return until(`ingestion ${id} to finish`, async () => {
    const response = await api(service, `/v1/ingestions/${id}`);
    if (response.status !== 200) return undefined;
    const body = (await response.json()) as IngestionBody;
    return body.status === 'queued' || body.status === 'processing' ? undefined : body;
  });
}

function put(
  service: UploadService,
  name: string,
  body: RequestInit['body'],
  init: RequestInit & { token?: string | null } = {},
): Promise<Response> {
  return api(service, `/v1/files/${name}`, { method: 'PUT', body, ...init });
}

async function accepted(response: Response): Promise<AcceptedBody> {
  const text = await response.text();
  expect(response.status, text).toBe(202);
  return JSON.parse(text) as AcceptedBody;
}

async function refused(response: Response, status: number, code: string): Promise<ErrorBody['error']> {
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
async function spoolTree(spoolDir: string): Promise<string[]> {
  const all = await readdir(spoolDir, { recursive: true });
  return all.map((p) => p.split(path.sep).join('/')).sort();
}

/** The entry ids in each spool state. */
async function spoolEntries(spoolDir: string): Promise<Record<(typeof SPOOL_STATES)[number], string[]>> {
  const result = {} as Record<(typeof SPOOL_STATES)[number], string[]>;
  for (const state of SPOOL_STATES) result[state] = (await readdir(path.join(spoolDir, state))).sort();
  return result;
}

/** All entry ids in any state: a refused upload must not add one. */
async function allEntryIds(spoolDir: string): Promise<string[]> {
  const entries = await spoolEntries(spoolDir);
  // An entry moving on (incoming → processing → done) while the states are read may show up twice.
  return [...new Set(SPOOL_STATES.flatMap((state) => entries[state]))].sort();
}

/** Entry ids in the spool now that were not in `before`. */
async function newEntryIds(spoolDir: string, before: readonly string[]): Promise<string[]> {
  const known = new Set(before);
  return (await allEntryIds(spoolDir)).filter((id) => !known.has(id));
}

/** `inlet_uploads_total` by outcome, read from the service's own /metrics. */
async function uploadOutcomes(service: UploadService): Promise<Record<string, number>> {
  const text = await (await api(service, '/metrics')).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^inlet_uploads_total\{outcome="([a-z_]+)"\} (\d+)$/gm)) {
    counts[match[1] as string] = Number(match[2]);
  }
  return counts;
}

async function ledgerIds(): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>('SELECT id::text AS id FROM inlet.ingestions');
  return rows.map((r) => r.id);
}

/**
 * Ledger rows that are neither in `known` nor a spool entry known before: what a refused upload must
 * not add. (The queued row of an earlier, accepted upload may still land late: that one is known.)
 */
async function newLedgerIds(known: ReadonlySet<string>): Promise<string[]> {
  return (await ledgerIds()).filter((id) => !known.has(id));
}

/** Runs `act` and asserts it left no trace: no spool entry in any state, no ledger row. */
async function expectNothingStored(spoolDir: string, act: () => Promise<void>): Promise<void> {
  const idsBefore = await allEntryIds(spoolDir);
  const known = new Set([...idsBefore, ...(await ledgerIds())]);
  await act();
  // Give anything still being written a moment to show up (or be cleaned up).
  await sleep(100);
  expect(await newEntryIds(spoolDir, idsBefore)).toEqual([]);
  expect(await newLedgerIds(known)).toEqual([]);
}

/** Resolves once tmp/ and incoming/ are empty (bounded); returns what was left at the end. */
async function pendingSettled(
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

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** Reads a node:http response to its end. */
function readResponse(response: http.IncomingMessage): Promise<RawResponse> {
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

function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs = 10_000): Promise<T> {
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
function rawRequest(
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
function pseudoRandomBytes(count: number, seed: number): Buffer {
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

const md5Base64 = (bytes: string | Buffer) => createHash('md5').update(bytes).digest('base64');
const sha256Base64 = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('base64');

async function orderRows(
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

// ---------------------------------------------------------------------------------------------------------
// The basic path
// ---------------------------------------------------------------------------------------------------------

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
    expect(await waitForStatus(running.service, body.ingestionId)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 1,
    });
    const entries = await spoolEntries(running.spoolDir);
    expect(entries.done).toContain(body.ingestionId);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 1. Authentication and scopes (B14)
// ---------------------------------------------------------------------------------------------------------

describe('authentication (B14)', () => {
  const csv = 'id,amount,note\n100,1,auth\n';

  it('refuses a request without a token: 401, WWW-Authenticate, missing_token', async () => {
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/auth-missing.csv', csv, { token: null });
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="inlet"');
      await refused(response, 401, 'missing_token');
    });
  });

  it('refuses malformed and unknown tokens with 401 invalid_token', async () => {
    const malformed = await api(running.service, '/v1/ingestions', { token: 'not-a-token' });
    expect(malformed.headers.get('www-authenticate')).toContain('error="invalid_token"');
    await refused(malformed, 401, 'invalid_token');

    const unknown = await api(running.service, '/v1/ingestions', { token: `inlet_${'A'.repeat(43)}` });
    expect(unknown.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const error = await refused(unknown, 401, 'invalid_token');
    expect(error.message).toContain('not one this server knows');

    // Another scheme is not a bearer token.
    const basic = await api(running.service, '/v1/ingestions', {
      token: null,
      headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
    });
    await refused(basic, 401, 'invalid_token');
  });

  it('refuses a revoked token with 401 revoked_token, though it worked before', async () => {
    const token = await createToken(db.pool, { name: 'to-be-revoked' });
    expect((await api(running.service, '/v1/ingestions', { token: token.token })).status).toBe(200);
    await revokeToken(db.pool, token.id);
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/auth-revoked.csv', csv, { token: token.token });
      expect(response.headers.get('www-authenticate')).toContain('error_description="revoked_token"');
      const error = await refused(response, 401, 'revoked_token');
      expect(error.message).toContain('to-be-revoked');
    });
  });

  it('refuses an expired token with 401 expired_token', async () => {
    const token = await createToken(db.pool, {
      name: 'short-lived',
      expiresAt: new Date(Date.now() + 3600_000),
    });
    expect((await api(running.service, '/v1/ingestions', { token: token.token })).status).toBe(200);
    await db.pool.query(
      `UPDATE inlet.api_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1`,
      [token.id],
    );
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/auth-expired.csv', csv, { token: token.token });
      expect(response.headers.get('www-authenticate')).toContain('error_description="expired_token"');
      await refused(response, 401, 'expired_token');
    });
  });

  it('refuses a token scoped to another pipeline with 403 forbidden_pipeline, and accepts its own', async () => {
    const events = await createToken(db.pool, { name: 'events-only', pipelines: ['events'] });
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/auth-scoped.csv', csv, { token: events.token });
      const error = await refused(response, 403, 'forbidden_pipeline');
      expect(error.message).toContain('events-only');
      expect(error.message).toContain('"orders"');
    });
    // ?pipeline= cannot route around the scope either.
    const forced = await put(running.service, 'events/forced.ndjson?pipeline=orders', csv, {
      token: events.token,
    });
    await refused(forced, 403, 'forbidden_pipeline');

    const own = await put(running.service, 'events/auth-scoped.ndjson', '{"kind":"scoped","at":null}\n', {
      token: events.token,
    });
    const body = await accepted(own);
    expect(body.pipeline).toBe('events');
    expect(await waitForStatus(running.service, body.ingestionId)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 1,
    });
    const { rows } = await db.pool.query(`SELECT kind FROM up.events WHERE kind = 'scoped'`);
    expect(rows).toEqual([{ kind: 'scoped' }]);
  });

  it('serves /healthz without a token', async () => {
    const response = await api(running.service, '/healthz', { token: null });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      database: string;
      accepting: boolean;
      spool: unknown;
    };
    expect(body).toMatchObject({ status: 'ok', database: 'ok', accepting: true });
    expect(body.spool).toMatchObject({ incoming: expect.any(Number), done: expect.any(Number) });
  });

  it('requires a token for /metrics, /v1/openapi.json and the status routes', async () => {
    for (const route of [
      '/metrics',
      '/v1/openapi.json',
      '/v1/ingestions',
      `/v1/ingestions/${randomUUID()}`,
    ]) {
      const response = await api(running.service, route, { token: null });
      expect(response.headers.get('www-authenticate'), route).toBe('Bearer realm="inlet"');
      await refused(response, 401, 'missing_token');
    }
    const openapi = await api(running.service, '/v1/openapi.json');
    expect(openapi.status).toBe(200);
    const doc = (await openapi.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/files', '/v1/ingestions']));
    const metrics = await api(running.service, '/metrics');
    expect(metrics.status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 2. The size limit (B2)
// ---------------------------------------------------------------------------------------------------------

describe('the size limit (B2)', () => {
  const LIMIT = 1000;
  let small: RunningService;

  beforeAll(async () => {
    small = await runService(db, uploadConfig('up'), { maxUploadBytes: LIMIT });
  });

  afterAll(async () => {
    await small?.stop();
  });

  /** Opens a PUT and sends only its head; the body is written by the test, or never. */
  function openPut(name: string, headers: http.OutgoingHttpHeaders) {
    const errors: Error[] = [];
    const request = http.request({
      host: '127.0.0.1',
      port: small.service.port,
      method: 'PUT',
      path: `/v1/files/${name}`,
      headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'text/csv', ...headers },
    });
    // Writing into a socket the server closed after answering is expected here, not a failure.
    request.on('error', (error) => errors.push(error));
    const response = new Promise<RawResponse>((resolve, reject) => {
      request.on('response', (message) => readResponse(message).then(resolve, reject));
    });
    let answered = false;
    void response.then(() => {
      answered = true;
    });
    return { request, response, errors, isAnswered: () => answered };
  }

  it('answers 413 to a declared Content-Length one byte over the limit before any of the body is sent', async () => {
    await expectNothingStored(small.spoolDir, async () => {
      const { request, response } = openPut('orders/too-big.csv', { 'content-length': String(LIMIT + 1) });
      try {
        request.flushHeaders();
        // Not a byte of the body has been written: the answer must come anyway.
        const answer = await withTimeout('413 before the body', response, 5000);
        expect(request.writableEnded).toBe(false);
        expect(answer.status).toBe(413);
        expect(answer.headers.connection).toBe('close');
        const body = JSON.parse(answer.text) as ErrorBody;
        expect(body.error.code).toBe('too_large');
        expect(body.error.message).toContain(`${LIMIT + 1} bytes`);
        expect(body.error.message).toContain(`${LIMIT} bytes`);
      } finally {
        request.destroy();
      }
    });
    expect(await spoolTree(small.spoolDir)).toEqual([...SPOOL_STATES].sort());
  });

  it('accepts a body of exactly the limit', async () => {
    const header = 'id,amount,note\n';
    const row = '400,1,';
    const body = `${header}${row}${'x'.repeat(LIMIT - header.length - row.length - 1)}\n`;
    expect(Buffer.byteLength(body)).toBe(LIMIT);
    const answer = await accepted(await put(small.service, 'orders/exactly-limit.csv', body));
    expect(answer.bytes).toBe(LIMIT);
    expect(await waitForStatus(small.service, answer.ingestionId)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 1,
    });
  });

  it('answers 413 to a chunked body that grows past the limit, without waiting for its end', async () => {
    const idsBefore = await allEntryIds(small.spoolDir);
    const { request, response, isAnswered } = openPut('orders/chunked-too-big.csv', {
      'transfer-encoding': 'chunked',
    });
    try {
      request.write('id,amount,note\n');
      let sent = 0;
      // At most 64 KiB, 1 KiB at a time; the body is never ended, so only the limit can produce the answer.
      // The server holds back the first 8 KiB to sniff the content before the spool counts it, so the 413
      // comes within about 8 KiB rather than at byte 1001: bounded, never the whole body.
      for (let i = 0; i < 64 && !isAnswered(); i++) {
        const line = `${500 + i},1,${'y'.repeat(1000)}\n`;
        request.write(line);
        sent += line.length;
        await sleep(10);
      }
      const answer = await withTimeout('413 for the chunked body', response, 5000);
      expect(request.writableEnded).toBe(false);
      expect(sent).toBeLessThan(16 * 1024);
      expect(answer.status).toBe(413);
      expect((JSON.parse(answer.text) as ErrorBody).error.code).toBe('too_large');
    } finally {
      request.destroy();
    }
    expect(await pendingSettled(small.spoolDir)).toEqual({ tmp: [], incoming: [] });
    expect(await newEntryIds(small.spoolDir, idsBefore)).toEqual([]);
  });

  it('answers 413 to a chunked body over the limit that ends', async () => {
    await expectNothingStored(small.spoolDir, async () => {
      const rows = Array.from({ length: 20 }, (_, i) => `${600 + i},1,${'z'.repeat(60)}\n`).join('');
      const response = await rawRequest(small.service, {
        method: 'PUT',
        path: '/v1/files/orders/chunked-ended.csv',
        headers: { 'transfer-encoding': 'chunked', 'content-type': 'text/csv' },
        body: `id,amount,note\n${rows}`,
      });
      expect(response.status).toBe(413);
      expect((JSON.parse(response.text) as ErrorBody).error.code).toBe('too_large');
    });
  });

  it('answers 413 to a multipart file over the limit', async () => {
    await expectNothingStored(small.spoolDir, async () => {
      const rows = Array.from({ length: 300 }, (_, i) => `${700 + i},1,${'m'.repeat(60)}\n`).join('');
      const form = new FormData();
      form.append(
        'file',
        new Blob([`id,amount,note\n${rows}`], { type: 'text/csv' }),
        'orders-multipart-big.csv',
      );
      const response = await api(small.service, '/v1/files', { method: 'POST', body: form });
      await refused(response, 413, 'too_large');
    });
  });

  it('answers 413 to a multipart request whose declared length is far over the limit', async () => {
    await expectNothingStored(small.spoolDir, async () => {
      const post = http.request({
        host: '127.0.0.1',
        port: small.service.port,
        method: 'POST',
        path: '/v1/files',
        headers: {
          authorization: `Bearer ${BOOTSTRAP}`,
          'content-type': 'multipart/form-data; boundary=xyz',
          'content-length': String(10 * 1024 * 1024),
        },
      });
      post.on('error', () => undefined);
      const answer = new Promise<RawResponse>((resolve, reject) =>
        post.on('response', (message) => readResponse(message).then(resolve, reject)),
      );
      post.flushHeaders();
      try {
        const result = await withTimeout('413 for the multipart head', answer, 5000);
        expect(result.status).toBe(413);
        expect((JSON.parse(result.text) as ErrorBody).error.code).toBe('too_large');
      } finally {
        post.destroy();
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// 3. A Content-Length that lies (B3)
// ---------------------------------------------------------------------------------------------------------

/**
 * Speaks HTTP over a plain socket: writes `head` and `body`, then half-closes (FIN) and collects whatever
 * the server answers until it closes the socket (bounded in time).
 */
function rawSocket(
  service: UploadService,
  head: string,
  body: string,
  timeoutMs = 5000,
): Promise<{ response: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(service.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ response: Buffer.concat(chunks).toString('utf8'), closedByServer });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      socket.write(head);
      socket.end(body);
    });
  });
}

describe('a Content-Length that lies (B3)', () => {
  it('stores nothing when the body ends before the declared length', async () => {
    const idsBefore = await allEntryIds(running.spoolDir);
    const known = new Set([...idsBefore, ...(await ledgerIds())]);
    const failedBefore = (await uploadOutcomes(running.service)).bad_request ?? 0;
    const body = `id,amount,note\n800,1,${'l'.repeat(100 - 'id,amount,note\n800,1,'.length - 1)}\n`;
    expect(body.length).toBe(100);
    const { response, closedByServer } = await rawSocket(
      running.service,
      'PUT /v1/files/orders/lying-length.csv HTTP/1.1\r\n' +
        'Host: 127.0.0.1\r\n' +
        `Authorization: Bearer ${BOOTSTRAP}\r\n` +
        'Content-Type: text/csv\r\n' +
        'Content-Length: 5000\r\n\r\n',
      body,
    );
    // What happens: the client half-closes (FIN) after 100 of the 5000 declared bytes. Node's HTTP parser
    // reports the early end (HPE_INVALID_EOF_STATE) and the app's client-error handler answers
    // 400 `body_failed` in the API's JSON error shape and closes the socket; at the same time the request
    // stream is aborted, so the spool's receive fails and its staging directory in tmp/ is removed.
    // There is never a 202, and no entry is published to incoming/ or written to the ledger.
    expect(closedByServer).toBe(true);
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(response).toMatch(/\r\ncontent-type: application\/json/i);
    const json = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as ErrorBody;
    expect(json.error.code).toBe('body_failed');
    expect(json.error.message).toContain('Content-Length');
    // The route still sees the aborted body after the socket is gone; once it has counted the failed
    // upload, its staging directory has been removed.
    await until('the aborted upload to be counted', async () =>
      ((await uploadOutcomes(running.service)).bad_request ?? 0) > failedBefore ? true : undefined,
    );
    expect(await pendingSettled(running.spoolDir)).toEqual({ tmp: [], incoming: [] });
    expect(await newEntryIds(running.spoolDir, idsBefore)).toEqual([]);
    expect(await newLedgerIds(known)).toEqual([]);
    expect(await orderRows([800])).toEqual([]);
  });

  it('answers a request that is not valid HTTP with a JSON 400 too', async () => {
    const { response } = await rawSocket(
      running.service,
      'GET /healthz HTTP/1.1\r\nBad Header Line\r\n\r\n',
      '',
    );
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    const json = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as ErrorBody;
    expect(json.error.code).toBe('bad_request');
  });

  it('keeps serving after a lying client: the next upload is accepted', async () => {
    const answer = await accepted(
      await put(running.service, 'orders/after-lie.csv', 'id,amount,note\n801,2,ok\n'),
    );
    expect(await waitForStatus(running.service, answer.ingestionId)).toMatchObject({ status: 'loaded' });
    expect(await orderRows([801])).toEqual([{ id: '801', amount: '2.00', note: 'ok' }]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 5. Hostile file names (B5)
// ---------------------------------------------------------------------------------------------------------

describe('hostile file names (B5)', () => {
  const tag = randomUUID().slice(0, 8);
  const SPOOL_PATH = new RegExp(
    `^(${SPOOL_STATES.join('|')})(/[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}(/(data|meta\\.json))?)?$`,
  );

  /** What is sent after /v1/files/, the name the server must take from it, and its ledger URI. */
  const cases: { path: string; name: string; uri: string }[] = [
    {
      path: `orders/..%2f..%2fetc%2fpasswd-${tag}.csv?pipeline=orders`,
      name: `orders/../../etc/passwd-${tag}.csv`,
      uri: `upload:///orders/../../etc/passwd-${tag}.csv`,
    },
    {
      path: `orders/../../../../tmp/evil-${tag}.csv?pipeline=orders`,
      name: `orders/../../../../tmp/evil-${tag}.csv`,
      uri: `upload:///orders/../../../../tmp/evil-${tag}.csv`,
    },
    {
      path: `..%2F..%2F..%2Fescape-${tag}.csv?pipeline=orders`,
      name: `../../../escape-${tag}.csv`,
      uri: `upload:///../../../escape-${tag}.csv`,
    },
    {
      path: `..%5c..%5cwin-${tag}.csv?pipeline=orders`,
      name: `..\\..\\win-${tag}.csv`,
      uri: `upload:///..%5C..%5Cwin-${tag}.csv`,
    },
    {
      path: `orders/nul%00byte-${tag}.csv`,
      name: `orders/nul\u0000byte-${tag}.csv`,
      uri: `upload:///orders/nul%00byte-${tag}.csv`,
    },
    {
      path: `orders/${'a'.repeat(300)}.csv`,
      name: `orders/${'a'.repeat(300)}.csv`,
      uri: `upload:///orders/${'a'.repeat(300)}.csv`,
    },
    {
      path: `orders/sp%20ace%3F%23%E2%82%AC-${tag}.csv`,
      name: `orders/sp ace?#€-${tag}.csv`,
      uri: `upload:///orders/sp%20ace%3F%23%E2%82%AC-${tag}.csv`,
    },
    { path: 'CON?pipeline=orders', name: 'CON', uri: 'upload:///CON' },
    { path: 'NUL.csv?pipeline=orders', name: 'NUL.csv', uri: 'upload:///NUL.csv' },
    { path: '%2e%2e?pipeline=orders', name: '..', uri: 'upload:///..' },
    { path: '.?pipeline=orders', name: '.', uri: 'upload:///.' },
    { path: '...?pipeline=orders', name: '...', uri: 'upload:///...' },
  ];

  it('stores every name under a server-generated path inside the spool, and keeps the name in the ledger', async () => {
    const idsBefore = new Set(await allEntryIds(running.spoolDir));
    const accepted: { id: string; name: string; uri: string; row: number }[] = [];
    for (const [i, c] of cases.entries()) {
      const row = 2000 + i;
      const response = await rawRequest(running.service, {
        method: 'PUT',
        path: `/v1/files/${c.path}`,
        headers: { 'content-type': 'text/csv' },
        body: `id,amount,note\n${row},1,b5\n`,
      });
      expect(response.status, `${c.path}: ${response.text}`).toBe(202);
      const body = JSON.parse(response.text) as AcceptedBody;
      expect(body.ingestionId).toMatch(UUID_V7);
      accepted.push({ id: body.ingestionId, name: c.name, uri: c.uri, row });
    }

    for (const a of accepted) {
      const ingestion = await waitForStatus(running.service, a.id);
      expect(ingestion, JSON.stringify(a.name)).toMatchObject({
        status: 'loaded',
        rowsLoaded: 1,
        source: a.uri,
      });
      const { rows } = await db.pool.query<{ source_uri: string }>(
        'SELECT source_uri FROM inlet.ingestions WHERE id = $1',
        [a.id],
      );
      expect(rows).toEqual([{ source_uri: a.uri }]);
      // The client's name is kept verbatim in the sidecar, never as a path.
      const meta = JSON.parse(
        await readFile(path.join(running.spoolDir, 'done', a.id, 'meta.json'), 'utf8'),
      ) as {
        name: string;
      };
      expect(meta.name).toBe(a.name);
    }
    expect((await orderRows(accepted.map((a) => a.row))).length).toBe(accepted.length);

    // Nothing in the spool is named by the client: states, UUIDv7 entry directories, `data` and `meta.json`.
    const tree = await spoolTree(running.spoolDir);
    expect(tree.filter((p) => !SPOOL_PATH.test(p))).toEqual([]);
    const newIds = (await allEntryIds(running.spoolDir)).filter((id) => !idsBefore.has(id));
    expect(newIds.sort()).toEqual(accepted.map((a) => a.id).sort());

    // And nothing was written where a traversal would have led.
    const bases = [
      running.spoolDir,
      ...SPOOL_STATES.map((s) => path.join(running.spoolDir, s)),
      process.cwd(),
    ];
    for (const a of accepted.filter((x) => x.name.includes(tag))) {
      for (const base of bases)
        expect(existsSync(path.resolve(base, a.name)), `${base} + ${a.name}`).toBe(false);
    }
    expect(existsSync(`/tmp/evil-${tag}.csv`)).toBe(false);
    expect(existsSync(`/etc/passwd-${tag}.csv`)).toBe(false);
    expect(existsSync(path.resolve(running.spoolDir, '..', `escape-${tag}.csv`))).toBe(false);
  });

  it('refuses names it cannot take with a clear 4xx and stores nothing', async () => {
    await expectNothingStored(running.spoolDir, async () => {
      const long = await rawRequest(running.service, {
        method: 'PUT',
        path: `/v1/files/orders/${'b'.repeat(1100)}.csv`,
        headers: { 'content-type': 'text/csv' },
        body: 'id,amount,note\n2100,1,x\n',
      });
      expect(long.status).toBe(400);
      expect(JSON.parse(long.text)).toMatchObject({ error: { code: 'invalid_name' } });
      expect((JSON.parse(long.text) as ErrorBody).error.message).toContain('1024 bytes');

      // Percent-encoding that is not UTF-8 cannot be a name: refused in the API's error shape.
      const badEncoding = await rawRequest(running.service, {
        method: 'PUT',
        path: '/v1/files/orders/%ff.csv',
        headers: { 'content-type': 'text/csv' },
        body: 'id,amount,note\n2101,1,x\n',
      });
      expect(badEncoding.status).toBe(400);
      expect(JSON.parse(badEncoding.text)).toMatchObject({ error: { code: 'invalid_url' } });

      // `orders/../x.csv` leaves the orders/ folder, so orders/** does not claim it.
      const dotted = await rawRequest(running.service, {
        method: 'PUT',
        path: '/v1/files/orders/%2e%2e/x.csv',
        headers: { 'content-type': 'text/csv' },
        body: 'id,amount,note\n2102,1,x\n',
      });
      expect(dotted.status).toBe(422);
      expect(JSON.parse(dotted.text)).toMatchObject({ error: { code: 'no_pipeline' } });

      for (const empty of ['/v1/files/', '/v1/files/orders/']) {
        const response = await rawRequest(running.service, {
          method: 'PUT',
          path: empty,
          headers: { 'content-type': 'text/csv' },
          body: 'id,amount,note\n2103,1,x\n',
        });
        expect(response.status, empty).toBe(400);
        expect(JSON.parse(response.text), empty).toMatchObject({ error: { code: 'invalid_name' } });
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// 6. Content sniffing (B6)
// ---------------------------------------------------------------------------------------------------------

describe('content sniffing (B6)', () => {
  it('refuses a PNG sent as orders.csv with 415 and stores nothing', async () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pseudoRandomBytes(2000, 0x5eed),
    ]);
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders.csv', png, {
        headers: { 'content-type': 'text/csv' },
      });
      const error = await refused(response, 415, 'unsupported_media_type');
      expect(error.message).toContain('orders.csv');
      expect(error.message).toContain('PNG');
      expect(error.message).toContain('Not a CSV file');
    });
  });

  it('refuses random binary bytes sent as orders.csv with 415, also past the sniffed head', async () => {
    for (const size of [500, 64 * 1024]) {
      await expectNothingStored(running.spoolDir, async () => {
        const response = await put(running.service, 'orders.csv', pseudoRandomBytes(size, 0xc0ffee + size));
        const error = await refused(response, 415, 'unsupported_media_type');
        expect(error.message).toContain('binary');
      });
    }
  });

  it('refuses a PNG compressed with gzip, judging what is inside', async () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pseudoRandomBytes(3000, 0xbee),
    ]);
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/picture.csv.gz', gzipSync(png));
      const error = await refused(response, 415, 'unsupported_media_type');
      expect(error.message).toContain('PNG');
    });
  });

  it('accepts a gzip-compressed CSV and loads it', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => `${3100 + i},${i}.25,gz row ${i}\n`).join('');
    const compressed = gzipSync(`id,amount,note\n${rows}`);
    expect(compressed[0]).toBe(0x1f);
    const answer = await accepted(await put(running.service, 'orders/compressed.csv.gz', compressed));
    expect(answer.bytes).toBe(compressed.byteLength);
    expect(await waitForStatus(running.service, answer.ingestionId)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 500,
      rowsRejected: 0,
    });
    const loaded = await orderRows([3100, 3599]);
    expect(loaded).toEqual([
      { id: '3100', amount: '0.25', note: 'gz row 0' },
      { id: '3599', amount: '499.25', note: 'gz row 499' },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 7. Routing to a pipeline
// ---------------------------------------------------------------------------------------------------------

describe('routing', () => {
  it('answers 422 no_pipeline, naming the patterns, when no pipeline matches the name', async () => {
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'reports/summary.txt', 'id,amount,note\n3700,1,x\n');
      const error = await refused(response, 422, 'no_pipeline');
      expect(error.message).toContain('reports/summary.txt');
      expect(error.message).toContain('orders/**');
      expect(error.message).toContain('*.orders.csv');
      expect(error.message).toContain('events/**');
      expect(error.message).toContain('*.ndjson');
      expect(error.message).toContain('?pipeline=');
    });
  });

  it('answers 422 unknown_pipeline for ?pipeline=nope, naming the known pipelines', async () => {
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/x.csv?pipeline=nope', 'id,amount,note\n3701,1,x\n');
      const error = await refused(response, 422, 'unknown_pipeline');
      expect(error.message).toContain('"nope"');
      expect(error.message).toContain('orders, events');
    });
  });

  it('routes by ?pipeline= whatever the name says', async () => {
    const answer = await accepted(
      await put(running.service, 'misc/anything.dat?pipeline=orders', 'id,amount,note\n3702,7,routed\n'),
    );
    expect(answer.pipeline).toBe('orders');
    expect(await waitForStatus(running.service, answer.ingestionId)).toMatchObject({ status: 'loaded' });
    expect(await orderRows([3702])).toEqual([{ id: '3702', amount: '7.00', note: 'routed' }]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 8. The rate limit
// ---------------------------------------------------------------------------------------------------------

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
      expect(await waitForStatus(limited.service, id)).toMatchObject({ status: 'loaded' });
    expect((await orderRows([3800, 3801, 3802, 3803, 3804])).map((r) => r.id)).toEqual([
      '3800',
      '3801',
      '3802',
      '3804',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 9. Idempotency-Key
// ---------------------------------------------------------------------------------------------------------

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

    expect(await waitForStatus(running.service, first.ingestionId)).toMatchObject({ status: 'loaded' });
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
    expect(await waitForStatus(running.service, a.ingestionId)).toMatchObject({ status: 'loaded' });
    expect(await waitForStatus(running.service, b.ingestionId)).toMatchObject({ status: 'loaded' });
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

      expect(await waitForStatus(running.service, id)).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
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

// ---------------------------------------------------------------------------------------------------------
// 10. Content-MD5 and x-amz-checksum-sha256
// ---------------------------------------------------------------------------------------------------------

describe('checksums', () => {
  const big = `id,amount,note\n${Array.from({ length: 600 }, (_, i) => `${40_000 + i},1,checksum ${i}\n`).join('')}`;

  it('accepts a body whose Content-MD5 matches', async () => {
    expect(big.length).toBeGreaterThan(8192);
    const answer = await accepted(
      await put(running.service, 'orders/md5-ok.csv', big, { headers: { 'content-md5': md5Base64(big) } }),
    );
    expect(await waitForStatus(running.service, answer.ingestionId)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 600,
    });
  });

  it('accepts a body whose x-amz-checksum-sha256 matches', async () => {
    const body = 'id,amount,note\n4500,1,sha\n';
    const answer = await accepted(
      await put(running.service, 'orders/sha-ok.csv', body, {
        headers: { 'x-amz-checksum-sha256': sha256Base64(body) },
      }),
    );
    const ingestion = await waitForStatus(running.service, answer.ingestionId);
    expect(ingestion).toMatchObject({ status: 'loaded' });
    expect((ingestion as IngestionBody & { sha256: string }).sha256).toBe(
      createHash('sha256').update(body).digest('hex'),
    );
  });

  it('refuses a Content-MD5 mismatch with 400 checksum_mismatch and stores nothing', async () => {
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/md5-bad.csv', big, {
        headers: { 'content-md5': md5Base64(`${big}tampered`) },
      });
      const error = await refused(response, 400, 'checksum_mismatch');
      expect(error.message).toContain('Content-MD5');
      expect(error.message).toContain(md5Base64(big));
    });
    expect(await pendingSettled(running.spoolDir)).toEqual({ tmp: [], incoming: [] });
  });

  it('refuses an x-amz-checksum-sha256 mismatch with 400 checksum_mismatch and stores nothing', async () => {
    await expectNothingStored(running.spoolDir, async () => {
      const body = 'id,amount,note\n4501,1,sha-bad\n';
      const response = await put(running.service, 'orders/sha-bad.csv', body, {
        headers: { 'x-amz-checksum-sha256': sha256Base64('something else') },
      });
      const error = await refused(response, 400, 'checksum_mismatch');
      expect(error.message).toContain('x-amz-checksum-sha256');
    });
    expect(await orderRows([4501])).toEqual([]);
  });

  it('refuses a mismatch even with an Idempotency-Key, and the key stays free for the retry', async () => {
    const key = randomUUID();
    const body = 'id,amount,note\n4502,1,retry\n';
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/sha-retry.csv', body, {
        headers: { 'idempotency-key': key, 'x-amz-checksum-sha256': sha256Base64('damaged') },
      });
      await refused(response, 400, 'checksum_mismatch');
    });
    const retry = await accepted(
      await put(running.service, 'orders/sha-retry.csv', body, {
        headers: { 'idempotency-key': key, 'x-amz-checksum-sha256': sha256Base64(body) },
      }),
    );
    expect(retry.replayed).toBe(false);
    expect(await waitForStatus(running.service, retry.ingestionId)).toMatchObject({ status: 'loaded' });
  });
});

// ---------------------------------------------------------------------------------------------------------
// 11. POST /v1/files (multipart)
// ---------------------------------------------------------------------------------------------------------

describe('POST /v1/files', () => {
  it('accepts a multipart file part, routed by its filename, and loads it', async () => {
    const form = new FormData();
    form.append('comment', 'a field before the file is ignored');
    const content = 'id,amount,note\n4600,5.5,multipart\n';
    form.append('file', new Blob([content], { type: 'text/csv' }), 'orders-mp.csv');
    const response = await api(running.service, '/v1/files', { method: 'POST', body: form });
    const answer = await accepted(response);
    expect(answer).toMatchObject({ pipeline: 'orders', replayed: false, bytes: Buffer.byteLength(content) });
    expect(await waitForStatus(running.service, answer.ingestionId)).toMatchObject({
      status: 'loaded',
      source: 'upload:///orders-mp.csv',
      rowsLoaded: 1,
    });
    expect(await orderRows([4600])).toEqual([{ id: '4600', amount: '5.50', note: 'multipart' }]);
  });

  it('keeps a multipart filename with a path in it whole, as PUT does, and never uses it as a path (B5)', async () => {
    const idsBefore = new Set(await allEntryIds(running.spoolDir));
    const form = new FormData();
    form.append('file', new Blob(['id,amount,note\n4650,1,mp-evil\n']), '../../orders-mp-evil.csv');
    const answer = await accepted(await api(running.service, '/v1/files', { method: 'POST', body: form }));
    expect(await waitForStatus(running.service, answer.ingestionId)).toMatchObject({
      status: 'loaded',
      source: 'upload:///../../orders-mp-evil.csv',
    });
    const newIds = (await allEntryIds(running.spoolDir)).filter((id) => !idsBefore.has(id));
    expect(newIds).toEqual([answer.ingestionId]);
    expect(existsSync(path.resolve(running.spoolDir, '..', 'orders-mp-evil.csv'))).toBe(false);
  });

  it('refuses a POST that is not multipart with 415', async () => {
    await expectNothingStored(running.spoolDir, async () => {
      const response = await api(running.service, '/v1/files', {
        method: 'POST',
        body: 'id,amount,note\n4601,1,x\n',
        headers: { 'content-type': 'text/csv' },
      });
      const error = await refused(response, 415, 'unsupported_media_type');
      expect(error.message).toContain('multipart/form-data');
    });
  });

  it('refuses a multipart body without a file part with 400 missing_file', async () => {
    await expectNothingStored(running.spoolDir, async () => {
      const form = new FormData();
      form.append('note', 'no file here');
      const response = await api(running.service, '/v1/files', { method: 'POST', body: form });
      await refused(response, 400, 'missing_file');
    });
  });

  it('sniffs a multipart file too: a PNG is 415', async () => {
    await expectNothingStored(running.spoolDir, async () => {
      const form = new FormData();
      const png = Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        pseudoRandomBytes(500, 7),
      ]);
      form.append('file', new Blob([png]), 'orders-mp.csv');
      const response = await api(running.service, '/v1/files', { method: 'POST', body: form });
      const error = await refused(response, 415, 'unsupported_media_type');
      expect(error.message).toContain('PNG');
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// 12. Status routes
// ---------------------------------------------------------------------------------------------------------

describe('status routes', () => {
  let ordersId: string;
  let eventsId: string;
  let eventsToken: string;

  beforeAll(async () => {
    const orders = await accepted(
      await put(running.service, 'orders/status.csv', 'id,amount,note\n4700,1,status\n'),
    );
    const events = await accepted(
      await put(running.service, 'events/status.ndjson', '{"kind":"status","at":"2026-01-01T00:00:00Z"}\n'),
    );
    ordersId = orders.ingestionId;
    eventsId = events.ingestionId;
    await waitForStatus(running.service, ordersId);
    await waitForStatus(running.service, eventsId);
    eventsToken = (await createToken(db.pool, { name: 'status-events', pipelines: ['events'] })).token;
  });

  async function list(query: string, token?: string): Promise<IngestionBody[]> {
    const response = await api(
      running.service,
      `/v1/ingestions${query}`,
      token === undefined ? {} : { token },
    );
    expect(response.status, query).toBe(200);
    return ((await response.json()) as { ingestions: IngestionBody[] }).ingestions;
  }

  it('lists recent ingestions, newest first, with filters', async () => {
    const all = await list('');
    expect(all.map((i) => i.id)).toEqual(expect.arrayContaining([ordersId, eventsId]));
    expect(all.length).toBeGreaterThan(2);

    const loadedOrders = await list('?status=loaded&pipeline=orders');
    expect(loadedOrders.length).toBeGreaterThan(0);
    expect(loadedOrders.every((i) => i.status === 'loaded' && i.pipeline === 'orders')).toBe(true);
    expect(loadedOrders.map((i) => i.id)).toContain(ordersId);
    expect(loadedOrders.map((i) => i.id)).not.toContain(eventsId);

    const events = await list('?pipeline=events');
    expect(events.every((i) => i.pipeline === 'events')).toBe(true);
    expect(events.map((i) => i.id)).toContain(eventsId);

    expect(await list('?status=failed')).toEqual([]);
    expect(await list('?limit=2')).toHaveLength(2);
    const newest = await list('?limit=1');
    expect(newest).toHaveLength(1);
    expect(newest[0]?.id).toBe(all[0]?.id);
  });

  it('refuses invalid filters with 400', async () => {
    for (const query of ['?limit=0', '?limit=1001', '?limit=abc', '?limit=-1', '?status=bogus']) {
      const response = await api(running.service, `/v1/ingestions${query}`);
      await refused(response, 400, 'invalid_request');
    }
  });

  it('shows a token scoped to pipelines only those pipelines', async () => {
    const visible = await list('', eventsToken);
    expect(visible.length).toBeGreaterThan(0);
    expect(visible.every((i) => i.pipeline === 'events')).toBe(true);
    expect(visible.map((i) => i.id)).toContain(eventsId);

    const forbidden = await api(running.service, '/v1/ingestions?pipeline=orders', { token: eventsToken });
    await refused(forbidden, 403, 'forbidden_pipeline');

    expect((await api(running.service, `/v1/ingestions/${eventsId}`, { token: eventsToken })).status).toBe(
      200,
    );
    // Another pipeline's ingestion is not there, as if the id did not exist.
    await refused(
      await api(running.service, `/v1/ingestions/${ordersId}`, { token: eventsToken }),
      404,
      'not_found',
    );
    await refused(
      await api(running.service, `/v1/ingestions/${ordersId}/rejects`, { token: eventsToken }),
      404,
      'not_found',
    );
  });

  it('answers 404 for an unknown id or one that is not a uuid', async () => {
    const unknown = randomUUID();
    const error = await refused(await api(running.service, `/v1/ingestions/${unknown}`), 404, 'not_found');
    expect(error.message).toContain(unknown);
    await refused(await api(running.service, '/v1/ingestions/not-a-uuid'), 404, 'not_found');
    await refused(await api(running.service, `/v1/ingestions/${unknown}/rejects`), 404, 'not_found');
  });

  it('shows one ingestion with its counts and timings', async () => {
    const response = await api(running.service, `/v1/ingestions/${ordersId}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: ordersId,
      pipeline: 'orders',
      status: 'loaded',
      source: 'upload:///orders/status.csv',
      rowsLoaded: 1,
      rowsRejected: 0,
      bytes: 'id,amount,note\n4700,1,status\n'.length,
    });
    for (const field of ['receivedAt', 'startedAt', 'finishedAt']) {
      expect(Number.isNaN(Date.parse(body[field] as string)), field).toBe(false);
    }
    expect(body.durationMs).toEqual(expect.any(Number));
  });

  it('exports rejected rows as JSON and as CSV with formula cells escaped (B10)', async () => {
    const file = 'id,amount,note\n4800,1,=HYPERLINK("ok")\n4801,notanumber,=HYPERLINK("x")\n';
    const answer = await accepted(await put(running.service, 'orders/rejects.csv', file));
    expect(await waitForStatus(running.service, answer.ingestionId)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 1,
      rowsRejected: 1,
    });
    // Stored as-is: the table holds the text the client sent.
    expect(await orderRows([4800, 4801])).toEqual([{ id: '4800', amount: '1.00', note: '=HYPERLINK("ok")' }]);

    const json = await api(running.service, `/v1/ingestions/${answer.ingestionId}/rejects`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await json.json()) as {
      ingestionId: string;
      rejects: { line: number; record: number; column: string; value: string; reason: string }[];
    };
    expect(body.ingestionId).toBe(answer.ingestionId);
    expect(body.rejects).toHaveLength(1);
    expect(body.rejects[0]).toMatchObject({ line: 3, column: 'amount', value: 'notanumber' });
    expect(body.rejects[0]?.reason).toEqual(expect.any(String));

    const csv = await api(running.service, `/v1/ingestions/${answer.ingestionId}/rejects`, {
      headers: { accept: 'text/csv' },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe(
      `attachment; filename="rejects-${answer.ingestionId}.csv"`,
    );
    const text = await csv.text();
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('line,record,column,value,reason');
    expect(lines[1]).toMatch(/^3,\d+,amount,notanumber,/);
    expect(lines[2]).toBe('');
  });

  it('escapes a formula in a rejected value when exported as CSV (B10)', async () => {
    const file = 'id,amount,note\n4900,1,fine\n4901,=HYPERLINK("x"),bad\n';
    const answer = await accepted(await put(running.service, 'orders/rejects-formula.csv', file));
    expect(await waitForStatus(running.service, answer.ingestionId)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 1,
      rowsRejected: 1,
    });
    const json = (await (
      await api(running.service, `/v1/ingestions/${answer.ingestionId}/rejects`)
    ).json()) as {
      rejects: { value: string; column: string }[];
    };
    // JSON is data, not a spreadsheet: the value as it was.
    expect(json.rejects).toMatchObject([{ column: 'amount', value: '=HYPERLINK("x")' }]);

    const csv = await (
      await api(running.service, `/v1/ingestions/${answer.ingestionId}/rejects?format=csv`)
    ).text();
    const [header, row] = csv.split('\r\n');
    expect(header).toBe('line,record,column,value,reason');
    // A leading quote makes spreadsheets show it as text; the embedded quotes are doubled (RFC 4180).
    expect(row).toContain(`,amount,"'=HYPERLINK(""x"")",`);
    expect(row).not.toMatch(/,=HYPERLINK/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 13. /metrics
// ---------------------------------------------------------------------------------------------------------

describe('/metrics', () => {
  function sample(text: string, name: string, labels: string): number | undefined {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  it('counts uploads by outcome, files by pipeline and status, and the spool by state', async () => {
    const before = await (await api(running.service, '/metrics')).text();
    const acceptedBefore = sample(before, 'inlet_uploads_total', 'outcome="accepted"') ?? 0;
    const loadedBefore = sample(before, 'inlet_files_total', 'pipeline="orders",status="loaded"') ?? 0;
    const refusedBefore = sample(before, 'inlet_uploads_total', 'outcome="unsupported_media_type"') ?? 0;

    const answer = await accepted(
      await put(running.service, 'orders/metrics.csv', 'id,amount,note\n5000,1,m\n'),
    );
    await waitForStatus(running.service, answer.ingestionId);
    await refused(
      await put(running.service, 'orders/metrics.csv', pseudoRandomBytes(300, 99)),
      415,
      'unsupported_media_type',
    );

    const response = await api(running.service, '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toContain('# TYPE inlet_uploads_total counter');
    expect(sample(text, 'inlet_uploads_total', 'outcome="accepted"')).toBe(acceptedBefore + 1);
    expect(sample(text, 'inlet_uploads_total', 'outcome="unsupported_media_type"')).toBe(refusedBefore + 1);
    // The worker counts the file just after onFinished; give it a moment.
    const loaded = await until('inlet_files_total to count the file', async () => {
      const now = await (await api(running.service, '/metrics')).text();
      const value = sample(now, 'inlet_files_total', 'pipeline="orders",status="loaded"') ?? 0;
      return value >= loadedBefore + 1 ? now : undefined;
    });
    expect(sample(loaded, 'inlet_rows_loaded_total', 'pipeline="orders"')).toBeGreaterThan(0);
    const depth = await spoolEntries(running.spoolDir);
    expect(sample(loaded, 'inlet_spool_entries', 'state="done"')).toBe(depth.done.length);
    expect(sample(loaded, 'inlet_spool_entries', 'state="incoming"')).toBe(depth.incoming.length);
    expect(text).toMatch(/^inlet_upload_bytes_total \d+/m);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 14. Unknown routes
// ---------------------------------------------------------------------------------------------------------

describe('unknown routes', () => {
  it('answers 404 in the JSON error shape', async () => {
    for (const [method, route] of [
      ['GET', '/v1/nothing-here'],
      // `GET /` is the dashboard (docs/http-api.md); a path beside it is still unknown.
      ['GET', '/nothing-here'],
      ['DELETE', '/v1/files/orders/x.csv'],
      ['PATCH', '/v1/ingestions'],
    ] as const) {
      const response = await api(running.service, route, { method });
      const error = await refused(response, 404, 'not_found');
      expect(error.message).toContain(`${method} ${route}`);
    }
  });
});
