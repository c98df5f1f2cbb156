/**
 * One naming rule for both upload doors: the multipart filename is the file's name exactly as the client
 * wrote it, folders included, as the path of PUT /v1/files/{name} is. It routes the same way, and is
 * never used as a path: the spool names its files itself and keeps the client's name as metadata.
 * Real HTTP (node:http, so the Content-Disposition is sent byte for byte), spool and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEntryAt } from '../../../src/server/spool-format.js';
import { uploadUri } from '../../../src/server/upload-source.js';
import { running, useUploadApi } from '../../harness/upload-api.js';
import {
  type AcceptedBody,
  allEntryIds,
  multipartBody,
  pendingSettled,
  rawRequest,
  SERVER_NAMED_SPOOL_PATH,
  SPOOL_STATES,
  spoolTree,
  until,
  waitForVerdict,
} from '../../harness/upload-client.js';

useUploadApi();

function postMultipart(disposition: string, content: string, query = '') {
  const { body, contentType } = multipartBody(disposition, content);
  return rawRequest(running.service, {
    method: 'POST',
    path: `/v1/files${query}`,
    headers: { 'content-type': contentType },
    body,
  });
}

/**
 * The client's name in the sidecar of a loaded entry. The ledger's verdict commits before the drain thread
 * moves the entry into done/, so it is waited for there.
 */
async function sidecarName(id: string): Promise<string> {
  const entry = path.join(running.spoolDir, 'done', id);
  await until(`${id} in done/`, async () => (existsSync(entry) ? true : undefined));
  return (await readEntryAt(entry)).sidecar.name;
}

describe('POST /v1/files names files as PUT does', () => {
  it('keeps the folders of a multipart filename, so orders/m1.csv routes by orders/** as PUT does', async () => {
    const tag = randomUUID().slice(0, 8);
    const name = `orders/m1-${tag}.csv`;
    // The base name alone matches no pipeline: only the folder routes it.
    const response = await postMultipart(`filename="${name}"`, 'id,amount,note\n8001,1,folder\n');
    expect(response.status, response.text).toBe(202);
    const answer = JSON.parse(response.text) as AcceptedBody;
    expect(answer).toMatchObject({ pipeline: 'orders', replayed: false });
    expect(await waitForVerdict(running.service, answer.ingestionId)).toMatchObject({
      status: 'loaded',
      source: `upload:///${name}`,
      rowsLoaded: 1,
    });
    expect(await sidecarName(answer.ingestionId)).toBe(name);

    // The same name through PUT: the same pipeline and the same ledger name.
    const viaPut = await rawRequest(running.service, {
      method: 'PUT',
      path: `/v1/files/orders/m1-${tag}-put.csv`,
      headers: { 'content-type': 'text/csv' },
      body: 'id,amount,note\n8002,1,folder\n',
    });
    expect(viaPut.status, viaPut.text).toBe(202);
    const putAnswer = JSON.parse(viaPut.text) as AcceptedBody;
    expect(putAnswer.pipeline).toBe(answer.pipeline);
    expect(await waitForVerdict(running.service, putAnswer.ingestionId)).toMatchObject({
      source: `upload:///orders/m1-${tag}-put.csv`,
    });
  });

  it('reads an RFC 5987 filename* with an encoded slash as the same folder', async () => {
    const tag = randomUUID().slice(0, 8);
    const response = await postMultipart(
      `filename*=UTF-8''orders%2Fm3-${tag}.csv`,
      'id,amount,note\n8003,1,star\n',
    );
    expect(response.status, response.text).toBe(202);
    const answer = JSON.parse(response.text) as AcceptedBody;
    expect(answer.pipeline).toBe('orders');
    expect(await waitForVerdict(running.service, answer.ingestionId)).toMatchObject({
      source: `upload:///orders/m3-${tag}.csv`,
    });
  });

  it('stores hostile multipart names under server-generated paths and keeps each name verbatim', async () => {
    const tag = randomUUID().slice(0, 8);
    const idsBefore = new Set(await allEntryIds(running.spoolDir));
    /** The Content-Disposition parameter sent, and the name the server must take from it. */
    const cases: { disposition: string; name: string }[] = [
      {
        disposition: `filename="orders/../../etc/passwd-${tag}.csv"`,
        name: `orders/../../etc/passwd-${tag}.csv`,
      },
      { disposition: `filename="../../../escape-${tag}.csv"`, name: `../../../escape-${tag}.csv` },
      // A plain filename is not percent-decoded: %2f stays three characters, as %252f in a PUT path would.
      { disposition: `filename="..%2f..%2fpct-${tag}.csv"`, name: `..%2f..%2fpct-${tag}.csv` },
      { disposition: `filename*=UTF-8''..%2F..%2Fstar-${tag}.csv`, name: `../../star-${tag}.csv` },
      {
        disposition: `filename*=UTF-8''orders%2Fnul%00byte-${tag}.csv`,
        name: `orders/nul\u0000byte-${tag}.csv`,
      },
      {
        disposition: `filename="orders/${'a'.repeat(300)}-${tag}.csv"`,
        name: `orders/${'a'.repeat(300)}-${tag}.csv`,
      },
      { disposition: 'filename="CON"', name: 'CON' },
      { disposition: 'filename="NUL.csv"', name: 'NUL.csv' },
      { disposition: 'filename=".."', name: '..' },
      { disposition: 'filename="."', name: '.' },
    ];
    const done: { id: string; name: string; row: number }[] = [];
    for (const [i, c] of cases.entries()) {
      const row = 8100 + i;
      const response = await postMultipart(
        c.disposition,
        `id,amount,note\n${row},1,hostile\n`,
        '?pipeline=orders',
      );
      expect(response.status, `${c.disposition}: ${response.text}`).toBe(202);
      done.push({ id: (JSON.parse(response.text) as AcceptedBody).ingestionId, name: c.name, row });
    }
    for (const d of done) {
      expect(await waitForVerdict(running.service, d.id), JSON.stringify(d.name)).toMatchObject({
        status: 'loaded',
        rowsLoaded: 1,
        source: uploadUri(d.name),
      });
      expect(await sidecarName(d.id)).toBe(d.name);
    }
    await pendingSettled(running.spoolDir);
    // Nothing in the spool is named by the client.
    const tree = await spoolTree(running.spoolDir);
    expect(tree.filter((p) => !SERVER_NAMED_SPOOL_PATH.test(p))).toEqual([]);
    const newIds = (await allEntryIds(running.spoolDir)).filter((id) => !idsBefore.has(id));
    expect(newIds.sort()).toEqual(done.map((d) => d.id).sort());
    // And nothing was written where a traversal would lead.
    const bases = [
      running.spoolDir,
      ...SPOOL_STATES.map((s) => path.join(running.spoolDir, s)),
      process.cwd(),
    ];
    for (const d of done.filter((x) => x.name.includes(tag))) {
      for (const base of bases)
        expect(existsSync(path.resolve(base, d.name)), `${base} + ${d.name}`).toBe(false);
    }
    expect(existsSync(`/etc/passwd-${tag}.csv`)).toBe(false);
  });

  it('refuses a multipart name PUT refuses, with the same code, and stores nothing', async () => {
    const idsBefore = new Set(await allEntryIds(running.spoolDir));
    for (const disposition of [`filename="orders/${'b'.repeat(1100)}.csv"`, 'filename="orders/"']) {
      const response = await postMultipart(disposition, 'id,amount,note\n8200,1,x\n');
      expect(response.status, response.text).toBe(400);
      expect(JSON.parse(response.text)).toMatchObject({ error: { code: 'invalid_name' } });
    }
    expect(await pendingSettled(running.spoolDir)).toEqual({ tmp: [], incoming: [] });
    expect((await allEntryIds(running.spoolDir)).filter((id) => !idsBefore.has(id))).toEqual([]);
  });
});
