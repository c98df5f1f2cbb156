import { describe, expect, it } from 'vitest';
import type { FileResult } from '../../../src/cli/ingest-files.js';
import { paint } from '../../../src/cli/output.js';
import { resultJson, resultLines } from '../../../src/cli/results.js';

const loaded: FileResult = {
  source: 'file:///data/orders.csv',
  pipeline: 'orders',
  status: 'loaded',
  ingestionId: '3f2c9a1e-0c4b-4d8e-9a57-2b1f0e6d7c88',
  rowsLoaded: 1000,
  rowsRejected: 3,
  bytes: 52_000,
  durationMs: 1234,
  contentSha256: 'ab',
  rejects: [],
};
const table = { schema: 'public', name: 'orders' };
const plain = paint(false);

describe('resultJson', () => {
  it('prints exactly the documented keys, in order, without error when there is none', () => {
    expect(resultJson(loaded)).toBe(
      '{"source":"file:///data/orders.csv","pipeline":"orders","status":"loaded",' +
        '"ingestionId":"3f2c9a1e-0c4b-4d8e-9a57-2b1f0e6d7c88","rowsLoaded":1000,"rowsRejected":3,"bytes":52000,"durationMs":1234}',
    );
  });

  it('adds the error when there is one', () => {
    const failed: FileResult = { ...loaded, status: 'failed', error: { code: 'no_pipeline', message: 'm' } };
    expect(JSON.parse(resultJson(failed))).toMatchObject({ error: { code: 'no_pipeline', message: 'm' } });
  });
});

const evolved: FileResult = {
  ...loaded,
  rowsRejected: 0,
  contractChange: {
    version: 2,
    columns: [
      { name: 'sales_channel', type: 'text', source: 'Sales Channel' },
      { name: 'units', type: 'bigint', source: 'units' },
    ],
    ddl: 'ALTER TABLE "public"."orders" ADD COLUMN "sales_channel" text, ADD COLUMN "units" bigint',
  },
};

describe('resultLines', () => {
  it('says which columns a file added to its table and the contract version (onDrift: evolve)', () => {
    expect(resultLines(evolved, { display: 'orders.csv', table, paint: plain })).toEqual([
      '✓ loaded orders.csv → public.orders: 1,000 rows in 1.2 s',
      '  added columns "sales_channel" text (from "Sales Channel"), "units" bigint: contract version 2 (inlet contracts orders)',
    ]);
    expect(resultLines(evolved, { display: 'orders.csv', table, paint: plain, dryRun: true })[1]).toMatch(
      /^ {2}would add columns /,
    );
    expect(JSON.parse(resultJson(evolved)).contractChange).toEqual(evolved.contractChange);
  });

  it('summarises a load', () => {
    expect(resultLines(loaded, { display: 'orders.csv', table, paint: plain })).toEqual([
      '✓ loaded orders.csv → public.orders: 1,000 rows (3 rejected) in 1.2 s',
      '  rejected rows: inlet rejects 3f2c9a1e-0c4b-4d8e-9a57-2b1f0e6d7c88',
    ]);
  });

  it('shows a rejection with its first five rejected rows and where to find the rest', () => {
    const rejects = Array.from({ length: 7 }, (_, i) => ({
      line: i + 2,
      record: i + 1,
      column: 'amount',
      value: `x${i}`,
      reason: 'not a number',
    }));
    const rejected: FileResult = {
      ...loaded,
      status: 'rejected',
      rowsLoaded: 0,
      rowsRejected: 9,
      rejects,
      error: { code: 'too_many_rejects', message: '9 of 10 rows rejected (allowed: 0%)' },
    };
    const lines = resultLines(rejected, { display: 'orders.csv', table, paint: plain });
    expect(lines[0]).toBe('✗ rejected orders.csv → public.orders: 9 of 10 rows rejected (allowed: 0%)');
    expect(lines.slice(1, 6)).toHaveLength(5);
    expect(lines[1]).toBe('    line 2, column amount, value "x0": not a number');
    expect(lines[6]).toBe('    … 4 more: inlet rejects 3f2c9a1e-0c4b-4d8e-9a57-2b1f0e6d7c88');
  });

  it('speaks of what would happen in a dry run', () => {
    expect(
      resultLines({ ...loaded, rowsRejected: 0 }, { display: 'a.csv', table, paint: plain, dryRun: true }),
    ).toEqual(['✓ valid a.csv → public.orders: 1,000 rows would load in 1.2 s']);
  });

  it('names the ingestion a duplicate repeats', () => {
    const [line] = resultLines({ ...loaded, status: 'duplicate' }, { display: 'a.csv', table, paint: plain });
    expect(line).toContain('duplicate a.csv → public.orders: already loaded by ingestion 3f2c9a1e');
  });

  it('shows a failure without a table when no pipeline took the file', () => {
    const failed: FileResult = {
      ...loaded,
      pipeline: null,
      status: 'failed',
      error: { code: 'no_pipeline', message: 'no pipeline matches "a.txt"' },
    };
    expect(resultLines(failed, { display: 'a.txt', table: undefined, paint: plain })).toEqual([
      '✗ failed a.txt: no pipeline matches "a.txt"',
    ]);
  });
});
