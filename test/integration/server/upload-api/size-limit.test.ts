/**
 * The upload API end to end: the size limit (B2): 413 before the body is read, for declared, chunked and
 * multipart bodies.
 * Set-up and helpers: test/harness/upload-api.ts and upload-client.ts.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  db,
  type ErrorBody,
  expectNothingStored,
  newEntryIds,
  useUploadApi,
  withTimeout,
} from '../../../harness/upload-api.js';
import {
  accepted,
  allEntryIds,
  pendingSettled,
  put,
  type RawResponse,
  rawRequest,
  readResponse,
  refused,
  SPOOL_STATES,
  spoolTree,
  waitForVerdict,
} from '../../../harness/upload-client.js';
import {
  api,
  BOOTSTRAP,
  type RunningService,
  runService,
  uploadConfig,
} from '../../../harness/upload-service.js';

useUploadApi();

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
    expect(await waitForVerdict(small.service, answer.ingestionId)).toMatchObject({
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
