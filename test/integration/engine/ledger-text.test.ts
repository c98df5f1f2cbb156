/**
 * Ledger text fields take whatever a file puts in them: an error message or a drift diff that quotes a
 * header or a zip entry name with a NUL byte (which PostgreSQL text and jsonb refuse) still ends as a
 * `rejected` row, with the byte shown as `\0`, not as a ledger write that fails and leaves no verdict.
 */
import { randomUUID } from 'node:crypto';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { writeLedger } from '../../../src/engine/ledger-entry.js';
import { insertRejects } from '../../../src/engine/rejects.js';
import type { ErrorCode } from '../../../src/error-codes/index.js';
import { engineHarness } from '../../harness/engine.js';
import { memorySource } from '../../harness/sources.js';

const h = engineHarness('ledgertext');

describe('NUL in what the ledger records about a rejected file', () => {
  it('a header naming a column with a NUL byte: rejected for drift, the name shown as \\0', async () => {
    const pipeline = await h.freshPipeline({ columns: [{ name: 'id', type: 'bigint' }], format: 'csv' });
    const result = await h.run(memorySource('nul-header.csv', 'id,b\u0000ad\n1,2\n'), pipeline);
    expect(result).toMatchObject({ status: 'rejected' });
    const row = await h.ledger(result.ingestionId);
    expect(row).toMatchObject({ status: 'rejected', error_code: result.error?.code });
    // The message quotes the name as JSON does (\u0000); the drift diff in details holds it raw, shown as \0.
    expect(row?.error_message).toContain('"b\\u0000ad"');
    expect(row?.error_message).not.toContain('\u0000');
    expect(JSON.stringify(row?.details)).toContain('b\\\\0ad');
  });

  it('a zip whose single entry name holds a NUL byte: rejected, with a row the ledger took', async () => {
    const pipeline = await h.freshPipeline({ columns: [{ name: 'id', type: 'bigint' }] });
    const zip = zipSync({ 'report\u0000.bin': Buffer.from('\u0001\u0002\u0003') });
    const result = await h.run(memorySource('nul-entry.zip', Buffer.from(zip)), pipeline);
    expect(result.status).toBe('rejected');
    const row = await h.ledger(result.ingestionId);
    expect(row).toMatchObject({ status: 'rejected', error_code: result.error?.code });
    expect(row?.error_message).not.toContain('\u0000');
  });

  it('writeLedger and insertRejects store NUL as \\0 and a lone surrogate as U+FFFD, in text and nested jsonb', async () => {
    const pipeline = await h.freshPipeline({ columns: [{ name: 'id', type: 'bigint' }] });
    const id = randomUUID();
    const client = await h.state.pool.connect();
    try {
      await client.query('BEGIN');
      await writeLedger(client, {
        id,
        pipeline,
        source: memorySource('raw.csv', ''),
        status: 'rejected',
        startedAt: new Date(),
        // Only catalogue codes type-check; the writer makes whatever it is given storable all the same.
        error: { code: 'bad\u0000code' as ErrorCode, message: 'entry "a\u0000b" and half a pair \ud800' },
        details: { names: ['x\u0000y', { 'k\u0000': 'v\udc00' }], when: new Date(0), n: 1 },
      });
      await insertRejects(client, id, [
        { record: 1, line: 2, column: 'c\u0000', value: 'v\u0000', reason: 'says \u0000' },
      ]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await h.ledger(id)).toMatchObject({
      status: 'rejected',
      error_code: 'bad\\0code',
      error_message: 'entry "a\\0b" and half a pair \ufffd',
      details: { names: ['x\\0y', { 'k\\0': 'v\ufffd' }], when: '1970-01-01T00:00:00.000Z', n: 1 },
    });
    const rejects = await h.state.pool.query(
      'SELECT column_name, raw_value, reason FROM inlet.rejects WHERE ingestion_id = $1',
      [id],
    );
    expect(rejects.rows).toEqual([{ column_name: 'c\\0', raw_value: 'v\\0', reason: 'says \\0' }]);
  });
});
