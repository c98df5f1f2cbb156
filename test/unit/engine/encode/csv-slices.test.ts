import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/load.js';
import { planColumns } from '../../../../src/engine/encode/columns.js';
import { encodeCsv } from '../../../../src/engine/encode/csv.js';
import { FLUSH_BYTES, RowWriter } from '../../../../src/engine/encode/encoder.js';
import { RejectCollector } from '../../../../src/engine/rejects.js';
import type { Pipeline } from '../../../../src/model/contract.js';
import type { RejectRecord } from '../../../../src/model/ingestion.js';
import { seededRandom } from '../../../harness/seeded-random.js';

/**
 * encodeCsv scans a read in slices and hands each piece over as soon as it is ready, the first one small,
 * so that PostgreSQL starts on the rows while the rest of the read is encoded. A slice ends like a read
 * does, so the COPY bytes and the rejects must be the same whatever the reads: here 1 MiB reads (sliced)
 * against reads of 7,919 bytes (smaller than a slice, so pushed whole), both COPY formats.
 */

const pipeline = parseConfig(
  JSON.stringify({
    pipelines: [
      {
        name: 'orders',
        format: 'csv',
        table: 'public.orders',
        columns: [
          { name: 'order_id', type: 'bigint', nullable: false },
          { name: 'placed_at', type: 'timestamptz' },
          { name: 'customer', type: 'text' },
          { name: 'amount', type: 'numeric(12,2)' },
          { name: 'paid', type: 'boolean' },
        ],
      },
    ],
  }),
  'test',
).pipelines[0] as Pipeline;

/** About 3 MB of rows: quoted fields with commas, quotes and line breaks, multibyte text, CRLF, bad rows. */
function seededCsv(): Buffer {
  const next = seededRandom(16);
  const lines = ['order_id,placed_at,customer,amount,paid'];
  for (let i = 0; lines.length < 40_000; i++) {
    const pick = Math.floor(next() * 40);
    const customer =
      pick === 0
        ? `"Ada ""the first"" Lovelace,\nLtd. ${i}"`
        : pick === 1
          ? `ünïcødé ☺ 😀 ${i}`
          : pick === 2
            ? `"${'x'.repeat(Math.floor(next() * 3000))}"`
            : `Customer ${i}`;
    const amount = pick === 3 ? 'twelve' : `${Math.floor(next() * 1e7)}.${String(i % 100).padStart(2, '0')}`;
    const placed = `2024-0${(i % 9) + 1}-1${i % 10}T0${i % 10}:1${i % 6}:2${i % 10}.${i % 1000}Z`;
    const row = pick === 4 ? `${i},${placed}` : `${1e9 + i},${placed},${customer},${amount},${i % 2 === 0}`;
    lines.push(row + (pick === 5 ? '\r' : ''));
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

async function encode(original: Buffer, readBytes: number, copyFormat: 'auto' | 'text') {
  // The scanner unquotes fields in place: each encode gets bytes of its own, as each read of a file does.
  const file = Buffer.from(original);
  const rejects = new RejectCollector();
  const writer = new RowWriter(planColumns(pipeline, copyFormat), rejects, false);
  async function* reads() {
    for (let at = 0; at < file.length; at += readBytes) yield file.subarray(at, at + readBytes);
  }
  const pieces: Buffer[] = [];
  for await (const piece of encodeCsv(reads(), pipeline.csv, pipeline, writer, 'test.csv')) {
    pieces.push(Buffer.from(piece));
  }
  const rejected: RejectRecord[] = rejects.takePending();
  return { pieces, rejected, good: writer.stats.good };
}

describe('encodeCsv hands a read over in slices', () => {
  const file = seededCsv();

  for (const copyFormat of ['auto', 'text'] as const) {
    it(`gives the same ${copyFormat === 'auto' ? 'binary' : 'text'} COPY bytes and rejects as unsliced reads`, async () => {
      const sliced = await encode(file, 1 << 20, copyFormat);
      const whole = await encode(file, 7919, copyFormat);
      expect(sliced.good).toBe(whole.good);
      expect(sliced.good).toBeGreaterThan(30_000);
      expect(sliced.rejected.length).toBeGreaterThan(1000);
      expect(sliced.rejected).toEqual(whole.rejected);
      expect(Buffer.concat(sliced.pieces).equals(Buffer.concat(whole.pieces))).toBe(true);
    });
  }

  it('hands the first piece over long before the first 1 MiB read is scanned, then pieces of about FLUSH_BYTES', async () => {
    const { pieces } = await encode(file, 1 << 20, 'auto');
    expect((pieces[0] as Buffer).length).toBeLessThan(128 * 1024);
    // Several pieces per read rather than one: each is at least FLUSH_BYTES, and not much more.
    expect(pieces.length).toBeGreaterThan(file.length / (2 * FLUSH_BYTES));
    for (const piece of pieces.slice(1, -1)) expect(piece.length).toBeLessThan(2 * FLUSH_BYTES);
  });
});
