/**
 * A client's view of the upload API for the focused server test files: send a file, read the answer,
 * wait for a verdict, and look at what the spool holds. Real HTTP on 127.0.0.1 only; every wait is bounded.
 */
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { UploadService } from '../../src/server/service.js';
import { api, BOOTSTRAP } from './upload-service.js';

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
}

export const SPOOL_STATES = ['tmp', 'incoming', 'processing', 'done', 'failed'] as const;

/** A spool path the server named: a state, a UUIDv7 entry directory, its `data` and `meta.json`. */
export const SERVER_NAMED_SPOOL_PATH = new RegExp(
  `^(${SPOOL_STATES.join('|')})(/[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}(/(data|meta\\.json))?)?$`,
);

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
export function waitForVerdict(service: UploadService, id: string): Promise<IngestionBody> {
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

export async function refused(
  response: Response,
  status: number,
  code: string,
): Promise<{ code: string; message: string }> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

/** The entry ids in each spool state. */
export async function spoolEntries(
  spoolDir: string,
): Promise<Record<(typeof SPOOL_STATES)[number], string[]>> {
  const result = {} as Record<(typeof SPOOL_STATES)[number], string[]>;
  for (const state of SPOOL_STATES) result[state] = (await readdir(path.join(spoolDir, state))).sort();
  return result;
}

/** All entry ids in any state (an entry seen mid-move is counted once). */
export async function allEntryIds(spoolDir: string): Promise<string[]> {
  const entries = await spoolEntries(spoolDir);
  return [...new Set(SPOOL_STATES.flatMap((state) => entries[state]))].sort();
}

/** Every path under the spool directory, relative to it, sorted. */
export async function spoolTree(spoolDir: string): Promise<string[]> {
  const all = await readdir(spoolDir, { recursive: true });
  return all.map((p) => p.split(path.sep).join('/')).sort();
}

/** Resolves once tmp/ and incoming/ are empty (bounded); returns what was left at the end. */
export async function pendingSettled(
  spoolDir: string,
  timeoutMs = 5000,
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

/**
 * A request through node:http, which sends the path and body bytes exactly as given (fetch and FormData
 * would normalise paths and escape multipart file names). Bounded by `timeoutMs`.
 */
export function rawRequest(
  service: UploadService,
  options: {
    method: string;
    path: string;
    headers?: http.OutgoingHttpHeaders;
    body?: Buffer | string;
    token?: string;
  },
  timeoutMs = 10_000,
): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1',
      port: service.port,
      method: options.method,
      path: options.path,
      headers: { authorization: `Bearer ${options.token ?? BOOTSTRAP}`, ...options.headers },
      timeout: timeoutMs,
    });
    request.on('timeout', () =>
      request.destroy(new Error(`no answer to ${options.method} ${options.path} within ${timeoutMs} ms`)),
    );
    request.on('response', (response) => readResponse(response).then(resolve, reject));
    request.on('error', reject);
    request.end(options.body);
  });
}

/**
 * A multipart/form-data body with one file part whose Content-Disposition parameters are written
 * exactly as given (`filename="a/b.csv"`, or `filename*=UTF-8''a%2Fb.csv`): what a hostile client sends.
 */
export function multipartBody(
  disposition: string,
  content: string | Buffer,
): { body: Buffer; contentType: string } {
  const boundary = `----inlet-test-${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; ${disposition}\r\n` +
        'Content-Type: text/csv\r\n\r\n',
      'utf8',
    ),
    Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8'),
    Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8'),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
