/**
 * The upload API end to end: content sniffing (B6): 415 for what the pipeline cannot read, gzip judged by
 * what is inside.
 * Set-up and helpers: test/harness/upload-api.ts and upload-client.ts.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  expectNothingStored,
  orderRows,
  pseudoRandomBytes,
  running,
  useUploadApi,
} from '../../../harness/upload-api.js';
import { accepted, put, refused, waitForVerdict } from '../../../harness/upload-client.js';

useUploadApi();

describe('content sniffing (B6)', () => {
  it('refuses a PNG sent as orders.csv with 415 and stores nothing', async () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pseudoRandomBytes(2000, 0x5eed),
    ]);
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders.csv', png, {
        headers: { 'content-type': 'text/csv' },
      });
      const error = await refused(response, 415, 'unsupported_media_type');
      expect(error.message).toContain('orders.csv');
      expect(error.message).toContain('PNG');
      expect(error.message).toContain('Not a CSV file');
    });
  });

  it('refuses random binary bytes sent as orders.csv with 415, also past the sniffed head', async () => {
    for (const size of [500, 64 * 1024]) {
      await expectNothingStored(running.spoolDir, async () => {
        const response = await put(running.service, 'orders.csv', pseudoRandomBytes(size, 0xc0ffee + size));
        const error = await refused(response, 415, 'unsupported_media_type');
        expect(error.message).toContain('binary');
      });
    }
  });

  it('refuses a PNG compressed with gzip, judging what is inside', async () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pseudoRandomBytes(3000, 0xbee),
    ]);
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/picture.csv.gz', gzipSync(png));
      const error = await refused(response, 415, 'unsupported_media_type');
      expect(error.message).toContain('PNG');
    });
  });

  it('accepts a gzip-compressed CSV and loads it', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => `${3100 + i},${i}.25,gz row ${i}\n`).join('');
    const compressed = gzipSync(`id,amount,note\n${rows}`);
    expect(compressed[0]).toBe(0x1f);
    const answer = await accepted(await put(running.service, 'orders/compressed.csv.gz', compressed));
    expect(answer.bytes).toBe(compressed.byteLength);
    expect(await waitForVerdict(running.service, answer.ingestionId)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 500,
      rowsRejected: 0,
    });
    const loaded = await orderRows([3100, 3599]);
    expect(loaded).toEqual([
      { id: '3100', amount: '0.25', note: 'gz row 0' },
      { id: '3599', amount: '499.25', note: 'gz row 499' },
    ]);
  });
});
