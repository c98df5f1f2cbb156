/**
 * The upload API end to end: a Content-Length that lies (B3), and a request that is not HTTP: 400, nothing
 * stored, the service serving on.
 * Set-up and helpers: test/harness/upload-api.ts and upload-client.ts.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { UploadService } from '../../../../src/server/service.js';
import {
  type ErrorBody,
  ledgerIds,
  newEntryIds,
  newLedgerIds,
  orderRows,
  running,
  uploadOutcomes,
  useUploadApi,
} from '../../../harness/upload-api.js';
import {
  accepted,
  allEntryIds,
  pendingSettled,
  put,
  until,
  waitForVerdict,
} from '../../../harness/upload-client.js';
import { BOOTSTRAP } from '../../../harness/upload-service.js';

useUploadApi();

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
    expect(await waitForVerdict(running.service, answer.ingestionId)).toMatchObject({ status: 'loaded' });
    expect(await orderRows([801])).toEqual([{ id: '801', amount: '2.00', note: 'ok' }]);
  });
});
