/**
 * Bad inputs through the upload API door (`inlet serve`), as a client sends them: real HTTP on 127.0.0.1
 * to one service with a 256 KiB upload limit, one spool and one database for the file. For each input: the
 * HTTP status and the JSON error code of the answer, and for an accepted file its verdict (GET
 * /v1/ingestions/{id}), its ledger row under `upload:///<name percent-encoded>` with its error code, and
 * what its table holds. The inputs are test/harness/bad-inputs.ts's, the same bytes every door is fed.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, revokeToken } from '../../../src/server/tokens.js';
import {
  B,
  badInputConfig,
  encodeKeyPath,
  expectedMainRows,
  expectRejects,
  HOSTILE_NAMES,
  hostileNameContent,
  ledgerRows,
  TABLES,
  tableRows,
  VERDICTS,
} from '../../harness/bad-inputs.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import {
  type AcceptedBody,
  allEntryIds,
  multipartBody,
  pendingSettled,
  type RawResponse,
  rawRequest,
  SERVER_NAMED_SPOOL_PATH,
  spoolTree,
  until,
  waitForVerdict,
} from '../../harness/upload-client.js';
import { api, BOOTSTRAP, type RunningService, runService } from '../../harness/upload-service.js';

const LIMIT = 256 * 1024;

type Key = keyof typeof B;

/** Inputs the API refuses at the door, before anything is stored: the status and code of its answer. */
const AT_THE_DOOR: Partial<Record<Key, { status: number; code: string }>> = {
  png: { status: 415, code: 'unsupported_media_type' },
  noise: { status: 415, code: 'unsupported_media_type' },
};

/** Inputs accepted (202) and judged by the engine; B19's full export goes first. */
const ACCEPTED: readonly Key[] = [
  'replaceFull',
  'empty',
  'gzipBomb',
  'hostileHeader',
  'longHeader',
  'formula',
  'formulaRejected',
  'nulAndInvalidUtf8',
  'duplicateColumns',
  'missingColumn',
  'extraColumn',
  'ragged',
  'bomOnly',
  'rfc4180',
  'windows1252Semicolons',
  'utf16Tabs',
  'truncatedGzip',
  'truncatedParquet',
  'corruptXlsx',
  'replaceHeaderOnly',
  'replaceTruncated',
  'ratioGzip',
  'ratioDeflate',
  'ratioBrotli',
  'ratioZip',
];

let db: TestDatabase;
let running: RunningService;
const answers = new Map<string, RawResponse>();

const sourceOf = (name: string) => `upload:///${encodeKeyPath(name)}`;

/** PUT /v1/files/{name}: the name percent-encoded as the ledger writes it, sent byte for byte. */
function putRaw(name: string, body: Buffer, headers: http.OutgoingHttpHeaders = {}, token = BOOTSTRAP) {
  return rawRequest(running.service, {
    method: 'PUT',
    path: `/v1/files/${encodeKeyPath(name)}`,
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body,
    token,
  });
}

/** Spool entries (in any state) that were not there `before`: what a refused request must not leave. */
async function newSpoolEntries(before: readonly string[]): Promise<string[]> {
  return (await allEntryIds(running.spoolDir)).filter((id) => !before.includes(id));
}

/** Uploads the service counted as `bad_request` (a body that broke off among them), from /metrics. */
async function badRequests(): Promise<number> {
  const text = await (await api(running.service, '/metrics')).text();
  return Number(/^inlet_uploads_total\{outcome="bad_request"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

function errorCode(response: RawResponse): string | undefined {
  try {
    return (JSON.parse(response.text) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  running = await runService(db, badInputConfig(), { maxUploadBytes: LIMIT });
  // One at a time and in order: B19's guard compares with what the full export left in the table.
  for (const key of [...ACCEPTED, ...(Object.keys(AT_THE_DOOR) as Key[])]) {
    const response = await putRaw(B[key].name, B[key].bytes());
    answers.set(key, response);
    if (response.status === 202) {
      await waitForVerdict(running.service, (JSON.parse(response.text) as AcceptedBody).ingestionId);
    }
  }
}, 60_000);

afterAll(async () => {
  await running?.stop();
  await db?.drop();
});

describe('files the API refuses at the door (B6: 415 before anything is stored)', () => {
  it.each(Object.keys(AT_THE_DOOR).map((key) => [B[key as Key].label, key as Key] as const))(
    '%s',
    async (_label, key) => {
      const answer = answers.get(key) as RawResponse;
      const expected = AT_THE_DOOR[key] as { status: number; code: string };
      expect(answer.status, answer.text).toBe(expected.status);
      expect(errorCode(answer)).toBe(expected.code);
      expect(await ledgerRows(db.pool, sourceOf(B[key].name))).toEqual([]);
    },
  );
});

describe('files accepted with 202, then judged: the verdict, its code in the ledger, nothing half-loaded', () => {
  it.each(ACCEPTED.map((key) => [B[key].label, key] as const))('%s', async (_label, key) => {
    const answer = answers.get(key) as RawResponse;
    expect(answer.status, answer.text).toBe(202);
    const { ingestionId } = JSON.parse(answer.text) as AcceptedBody;
    const verdict = VERDICTS[key];
    const body = await waitForVerdict(running.service, ingestionId);
    expect(body).toMatchObject({ status: verdict.status, rowsLoaded: verdict.rowsLoaded });
    const rows = await ledgerRows(db.pool, sourceOf(B[key].name));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: ingestionId,
      status: verdict.status,
      error_code: verdict.code ?? null,
      rows_loaded: verdict.rowsLoaded,
      ...(verdict.rowsRejected === undefined ? {} : { rows_rejected: verdict.rowsRejected }),
    });
    if (verdict.message !== undefined) expect(rows[0]?.error_message).toMatch(verdict.message);
    await expectRejects(db.pool, ingestionId, verdict);
  });

  it('leaves main with exactly the rows of the files that loaded, capped empty, replace untouched', async () => {
    expect(await tableRows(db.pool, TABLES.main)).toEqual(expectedMainRows(ACCEPTED));
    expect(await tableRows(db.pool, TABLES.capped)).toEqual([]);
    expect(await tableRows(db.pool, TABLES.replace)).toEqual(['1:a', '2:b', '3:c', '4:d']);
  });

  it('B10: exports a formula in a rejected value escaped in CSV', async () => {
    const { ingestionId } = JSON.parse(answers.get('formulaRejected')?.text ?? '{}') as AcceptedBody;
    const csv = await api(running.service, `/v1/ingestions/${ingestionId}/rejects?format=csv`);
    expect(csv.status).toBe(200);
    const [, row] = (await csv.text()).split('\r\n');
    expect(row).toMatch(/^3,\d+,id,"'=HYPERLINK\(""x""\)",/);
  });
});

describe('the request itself', () => {
  it('B2: 413 too_large to a Content-Length one byte over the limit, before a byte of the body is sent', async () => {
    const before = await allEntryIds(running.spoolDir);
    const request = http.request({
      host: '127.0.0.1',
      port: running.service.port,
      method: 'PUT',
      path: '/v1/files/b02-over.csv',
      headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-length': String(LIMIT + 1) },
    });
    request.on('error', () => undefined);
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no 413 within 5 s')), 5000);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() });
        });
      });
    });
    request.flushHeaders();
    try {
      const response = await answer;
      expect(request.writableEnded).toBe(false);
      expect(response.status).toBe(413);
      expect((JSON.parse(response.text) as { error: { code: string } }).error.code).toBe('too_large');
    } finally {
      request.destroy();
    }
    expect(await newSpoolEntries(before)).toEqual([]);
  });

  it('B3: 400 body_failed to a Content-Length that lies, and nothing left in the spool', async () => {
    const before = await allEntryIds(running.spoolDir);
    const badBefore = await badRequests();
    const { createConnection } = await import('node:net');
    const response = await new Promise<string>((resolve) => {
      const socket = createConnection(running.service.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      const done = () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(Buffer.concat(chunks).toString());
      };
      const timer = setTimeout(done, 5000);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('close', done);
      socket.on('error', done);
      socket.on('connect', () => {
        socket.write(
          `PUT /v1/files/b03-lying.csv HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${BOOTSTRAP}\r\n` +
            'Content-Length: 5000\r\n\r\n',
        );
        socket.end('id,note\n301,short\n');
      });
    });
    expect(response, response).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: { code: 'body_failed' },
    });
    // The answer can come before the route has seen its aborted body (under load it starts its staging
    // directory after the 400 went out): once it has counted the failed upload, that directory is gone.
    await until('the aborted upload to be counted', async () =>
      (await badRequests()) > badBefore ? true : undefined,
    );
    expect(await pendingSettled(running.spoolDir)).toEqual({ tmp: [], incoming: [] });
    expect(await newSpoolEntries(before)).toEqual([]);
    expect(await ledgerRows(db.pool, sourceOf('b03-lying.csv'))).toEqual([]);
  });

  it('B14: 401 for a missing, revoked or expired token, 403 for a token of another pipeline; nothing stored', async () => {
    const before = await allEntryIds(running.spoolDir);
    const body = B.good.bytes();
    const missing = await fetch(`${running.service.url}/v1/files/b14-missing.csv`, { method: 'PUT', body });
    expect([missing.status, ((await missing.json()) as { error: { code: string } }).error.code]).toEqual([
      401,
      'missing_token',
    ]);
    const revoked = await createToken(db.pool, { name: 'b14-revoked' });
    await revokeToken(db.pool, revoked.id);
    const revokedAnswer = await putRaw('b14-revoked.csv', body, {}, revoked.token);
    expect([revokedAnswer.status, errorCode(revokedAnswer)]).toEqual([401, 'revoked_token']);
    const expired = await createToken(db.pool, {
      name: 'b14-expired',
      expiresAt: new Date(Date.now() + 60_000),
    });
    await db.pool.query(
      `UPDATE inlet.api_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1`,
      [expired.id],
    );
    const expiredAnswer = await putRaw('b14-expired.csv', body, {}, expired.token);
    expect([expiredAnswer.status, errorCode(expiredAnswer)]).toEqual([401, 'expired_token']);
    const scoped = await createToken(db.pool, { name: 'b14-capped-only', pipelines: ['capped'] });
    const scopedAnswer = await putRaw('b14-scoped.csv', body, {}, scoped.token);
    expect([scopedAnswer.status, errorCode(scopedAnswer)]).toEqual([403, 'forbidden_pipeline']);
    expect(await newSpoolEntries(before)).toEqual([]);
  });

  it('B5/B17: hostile names are stored under server-generated paths and recorded percent-encoded', async () => {
    for (const [i, { label, name }] of HOSTILE_NAMES.entries()) {
      const answer = await putRaw(name, hostileNameContent(i));
      expect(answer.status, `${label}: ${answer.text}`).toBe(202);
      const { ingestionId } = JSON.parse(answer.text) as AcceptedBody;
      const verdict = await waitForVerdict(running.service, ingestionId);
      expect(verdict, `${label}: ${JSON.stringify(verdict)}`).toMatchObject({
        status: 'loaded',
        rowsLoaded: 1,
      });
      const source = sourceOf(name);
      expect(source, label).toMatch(/^upload:\/\/\/[\x21-\x7e]+$/);
      expect(await ledgerRows(db.pool, source), label).toMatchObject([{ id: ingestionId, status: 'loaded' }]);
    }
    for (const path of await spoolTree(running.spoolDir)) expect(path).toMatch(SERVER_NAMED_SPOOL_PATH);
  });

  it('B17: a name whose escapes are not UTF-8 (%FF) is 400 invalid_url, and nothing is stored', async () => {
    const before = await allEntryIds(running.spoolDir);
    const answer = await rawRequest(running.service, {
      method: 'PUT',
      path: '/v1/files/b17-caf%E9%FF.csv',
      body: B.good.bytes(),
    });
    expect([answer.status, errorCode(answer)]).toEqual([400, 'invalid_url']);
    expect(await newSpoolEntries(before)).toEqual([]);
  });

  it('B18: an Idempotency-Key reused with another body, name or pipeline is 409 idempotency_key_reused', async () => {
    const key = `b18-${Date.now()}`;
    const first = await putRaw('b18-first.csv', Buffer.from('id,note\n1801,first\n'), {
      'idempotency-key': key,
    });
    expect(first.status, first.text).toBe(202);
    const { ingestionId } = JSON.parse(first.text) as AcceptedBody;
    const replay = await putRaw('b18-first.csv', Buffer.from('id,note\n1801,first\n'), {
      'idempotency-key': key,
    });
    expect(replay.status).toBe(202);
    expect(JSON.parse(replay.text)).toMatchObject({ ingestionId, replayed: true });
    const before = await allEntryIds(running.spoolDir);
    for (const [what, name, body] of [
      ['body', 'b18-first.csv', 'id,note\n1802,other body\n'],
      ['name', 'b18-other-name.csv', 'id,note\n1801,first\n'],
      ['pipeline', 'b18-first.csv?pipeline=capped', 'id,note\n1801,first\n'],
    ] as const) {
      const answer = await rawRequest(running.service, {
        method: 'PUT',
        path: `/v1/files/${name}`,
        headers: { 'idempotency-key': key },
        body,
      });
      expect([answer.status, errorCode(answer)], what).toEqual([409, 'idempotency_key_reused']);
    }
    expect(await newSpoolEntries(before)).toEqual([]);
    expect(await waitForVerdict(running.service, ingestionId)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 1,
    });
    expect(await ledgerRows(db.pool, sourceOf('b18-other-name.csv'))).toEqual([]);
  });

  it('multipart POST /v1/files keeps the folders of its filename, as PUT does (issue 13 item 9)', async () => {
    const { body, contentType } = multipartBody(
      'filename="mp/folder/b05-multipart.csv"',
      'id,note\n1901,mp\n',
    );
    const answer = await rawRequest(running.service, {
      method: 'POST',
      path: '/v1/files',
      headers: { 'content-type': contentType },
      body,
    });
    expect(answer.status, answer.text).toBe(202);
    const accepted = JSON.parse(answer.text) as AcceptedBody;
    expect(await waitForVerdict(running.service, accepted.ingestionId)).toMatchObject({ status: 'loaded' });
    // The name keeps its folders, as PUT /v1/files/mp/folder/b05-multipart.csv would record it.
    expect(await ledgerRows(db.pool, 'upload:///mp/folder/b05-multipart.csv')).toMatchObject([
      { id: accepted.ingestionId, status: 'loaded', rows_loaded: 1 },
    ]);
  });

  it('/metrics shows a token scoped to one pipeline only that pipeline (issue 13 item 7)', async () => {
    const scoped = await createToken(db.pool, { name: 'metrics-capped', pipelines: ['capped'] });
    const response = await api(running.service, '/metrics', { token: scoped.token });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const pipelines = new Set([...text.matchAll(/^[a-z_]+\{[^\n]*?pipeline="([^"]*)"/gm)].map((m) => m[1]));
    expect(pipelines).toEqual(new Set(['capped']));
    expect(text).not.toMatch(/^inlet_uploads_total/m);
    const all = await (await api(running.service, '/metrics')).text();
    expect(all).toMatch(/pipeline="main"/);
  });
});
