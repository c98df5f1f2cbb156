/**
 * The upload API end to end: `/metrics`: uploads by outcome, files by pipeline and status, the spool by
 * state.
 * Set-up and helpers: test/harness/upload-api.ts and upload-client.ts.
 */
import { describe, expect, it } from 'vitest';
import { pseudoRandomBytes, running, useUploadApi } from '../../../harness/upload-api.js';
import {
  accepted,
  put,
  refused,
  spoolEntries,
  until,
  waitForVerdict,
} from '../../../harness/upload-client.js';
import { api } from '../../../harness/upload-service.js';

useUploadApi();

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
    await waitForVerdict(running.service, answer.ingestionId);
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
