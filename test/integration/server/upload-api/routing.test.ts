/**
 * The upload API end to end: routing: which pipeline a file goes to (422 when none), and 404 for a route
 * that does not exist.
 * Set-up and helpers: test/harness/upload-api.ts and upload-client.ts.
 */
import { describe, expect, it } from 'vitest';
import { expectNothingStored, orderRows, running, useUploadApi } from '../../../harness/upload-api.js';
import { accepted, put, refused, waitForVerdict } from '../../../harness/upload-client.js';
import { api } from '../../../harness/upload-service.js';

useUploadApi();

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
    expect(await waitForVerdict(running.service, answer.ingestionId)).toMatchObject({ status: 'loaded' });
    expect(await orderRows([3702])).toEqual([{ id: '3702', amount: '7.00', note: 'routed' }]);
  });
});

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
