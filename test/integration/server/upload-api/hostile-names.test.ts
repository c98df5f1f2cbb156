/**
 * The upload API end to end: hostile file names (B5): the name is metadata, the spool names its files
 * itself.
 * Set-up and helpers: test/harness/upload-api.ts and upload-client.ts.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEntryAt } from '../../../../src/server/spool-format.js';
import {
  db,
  type ErrorBody,
  expectNothingStored,
  orderRows,
  running,
  UUID_V7,
  useUploadApi,
} from '../../../harness/upload-api.js';
import {
  type AcceptedBody,
  allEntryIds,
  rawRequest,
  SPOOL_STATES,
  spoolTree,
  waitForVerdict,
} from '../../../harness/upload-client.js';

useUploadApi();

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
      const ingestion = await waitForVerdict(running.service, a.id);
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
      const { sidecar } = await readEntryAt(path.join(running.spoolDir, 'done', a.id));
      expect(sidecar.name).toBe(a.name);
    }
    expect((await orderRows(accepted.map((a) => a.row))).length).toBe(accepted.length);

    // Nothing in the spool is named by the client: states and UUIDv7 entries (or, written by earlier versions,
    // entry directories of `data` and `meta.json`).
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
