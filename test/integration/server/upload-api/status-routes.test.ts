/**
 * The upload API end to end: the status routes: the list and its filters, one ingestion, its rejected rows
 * as JSON and CSV (B10), and a scoped token's view.
 * Set-up and helpers: test/harness/upload-api.ts and upload-client.ts.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../../../src/server/tokens.js';
import { db, orderRows, running, useUploadApi } from '../../../harness/upload-api.js';
import {
  accepted,
  type IngestionBody,
  put,
  refused,
  waitForVerdict,
} from '../../../harness/upload-client.js';
import { api } from '../../../harness/upload-service.js';

useUploadApi();

describe('status routes', () => {
  let ordersId: string;
  let eventsId: string;
  let eventsToken: string;

  beforeAll(async () => {
    // One ingestion besides the two the tests name, as the other routes' uploads were when this shared their
    // service: the unfiltered list must hold more than those two, and ?limit=2 must cut it.
    const earlier = await accepted(
      await put(running.service, 'orders/status-earlier.csv', 'id,amount,note\n4699,1,earlier\n'),
    );
    await waitForVerdict(running.service, earlier.ingestionId);
    const orders = await accepted(
      await put(running.service, 'orders/status.csv', 'id,amount,note\n4700,1,status\n'),
    );
    const events = await accepted(
      await put(running.service, 'events/status.ndjson', '{"kind":"status","at":"2026-01-01T00:00:00Z"}\n'),
    );
    ordersId = orders.ingestionId;
    eventsId = events.ingestionId;
    await waitForVerdict(running.service, ordersId);
    await waitForVerdict(running.service, eventsId);
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
    expect(await waitForVerdict(running.service, answer.ingestionId)).toMatchObject({
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
    expect(await waitForVerdict(running.service, answer.ingestionId)).toMatchObject({
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
