/**
 * The upload API end to end: multipart `POST /v1/files`: the file part, its name kept whole (B5), what is
 * not a file upload.
 * Set-up and helpers: test/harness/upload-api.ts and upload-client.ts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expectNothingStored,
  orderRows,
  pseudoRandomBytes,
  running,
  useUploadApi,
} from '../../../harness/upload-api.js';
import { accepted, allEntryIds, refused, waitForVerdict } from '../../../harness/upload-client.js';
import { api } from '../../../harness/upload-service.js';

useUploadApi();

describe('POST /v1/files', () => {
  it('accepts a multipart file part, routed by its filename, and loads it', async () => {
    const form = new FormData();
    form.append('comment', 'a field before the file is ignored');
    const content = 'id,amount,note\n4600,5.5,multipart\n';
    form.append('file', new Blob([content], { type: 'text/csv' }), 'orders-mp.csv');
    const response = await api(running.service, '/v1/files', { method: 'POST', body: form });
    const answer = await accepted(response);
    expect(answer).toMatchObject({ pipeline: 'orders', replayed: false, bytes: Buffer.byteLength(content) });
    expect(await waitForVerdict(running.service, answer.ingestionId)).toMatchObject({
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
    expect(await waitForVerdict(running.service, answer.ingestionId)).toMatchObject({
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
