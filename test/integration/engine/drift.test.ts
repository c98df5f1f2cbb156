import { beforeAll, describe, expect, it } from 'vitest';
import { getIngestion, ingestionView } from '../../../src/ledger/read.js';
import { AMOUNT_RENAMED_TO_AMT_DETAILS, COPY_FORMATS, engineHarness } from '../../harness/engine.js';
import { flat, parquetFile } from '../../harness/parquet.js';
import { memorySource } from '../../harness/sources.js';
import { cell, handmadeXlsx } from '../../harness/xlsx.js';

const h = engineHarness('dr');

const COLUMNS = [
  { name: 'id', type: 'bigint', nullable: false },
  { name: 'amount', type: 'numeric(12,2)' },
  { name: 'note', type: 'text' },
];

describe.each(COPY_FORMATS)('%s', (_label, format) => {
  beforeAll(() => {
    h.state.copyFormat = format;
  });

  it('maps reordered CSV columns by name', async () => {
    const pipeline = await h.freshPipeline({ columns: COLUMNS });
    const result = await h.run(memorySource('r.csv', 'note,ID,amount\nhi,1,2.5\n'), pipeline);
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    expect(await h.rows(pipeline)).toEqual([{ id: '1', amount: '2.50', note: 'hi' }]);
    expect((await h.ledger(result.ingestionId))?.details).not.toHaveProperty('drift');
  });

  it('rejects a renamed column (one missing, one extra) with the exact diff, in the ledger and the API view', async () => {
    const pipeline = await h.freshPipeline({ columns: COLUMNS });
    const result = await h.run(memorySource('renamed.csv', 'id,amt,note\n1,2.5,x\n'), pipeline);
    const message =
      `The header (line 1) does not match pipeline "${pipeline.name}": ` +
      'missing column "amount" (expected by the contract); unexpected column "amt" (not in the contract; did you mean "amount"?). ' +
      "Fix the file or update the pipeline's columns (onDrift: ignoreExtra skips extra columns and fills missing ones with NULL).";
    expect(result).toMatchObject({
      status: 'rejected',
      rowsLoaded: 0,
      error: { code: 'schema_drift', message },
    });
    expect(await h.rows(pipeline)).toEqual([]);
    const row = await getIngestion(h.state.pool, result.ingestionId as string);
    expect(row?.details).toEqual(AMOUNT_RENAMED_TO_AMT_DETAILS);
    // What `inlet ingestions` and GET /v1/ingestions/{id} show.
    expect(ingestionView(row as NonNullable<typeof row>).error).toEqual({ code: 'schema_drift', message });
  });

  it('names several missing and unexpected columns and a repeated one', async () => {
    const pipeline = await h.freshPipeline({ columns: COLUMNS });
    const several = await h.run(memorySource('s.csv', 'id,x,y\n1,2,3\n'), pipeline);
    expect(several.error?.message).toContain(
      'missing columns "amount", "note" (expected by the contract); unexpected columns "x", "y" (not in the contract).',
    );
    const repeated = await h.run(memorySource('rep.csv', 'id,amount,note,id\n1,2,3,4\n'), pipeline);
    expect(repeated.error?.message).toContain('column "id" appears more than once');
  });

  it('with onDrift: ignoreExtra skips extra columns and fills missing nullable ones with NULL (or the default)', async () => {
    const pipeline = await h.freshPipeline({
      onDrift: 'ignoreExtra',
      columns: [...COLUMNS, { name: 'status', type: 'text', nullable: false, default: 'new' }],
    });
    const result = await h.run(memorySource('lenient.csv', 'extra,id\nx,1\ny,2\n'), pipeline);
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    expect(await h.rows(pipeline)).toEqual([
      { id: '1', amount: null, note: null, status: 'new' },
      { id: '2', amount: null, note: null, status: 'new' },
    ]);
    expect((await h.ledger(result.ingestionId))?.details).toMatchObject({
      drift: { missing: ['amount', 'note', 'status'], unexpected: ['extra'], action: 'ignored' },
    });
  });

  it('with onDrift: ignoreExtra still rejects a missing NOT NULL column without a default', async () => {
    const pipeline = await h.freshPipeline({ onDrift: 'ignoreExtra', columns: COLUMNS });
    const result = await h.run(memorySource('noid.csv', 'amount,note\n1,x\n'), pipeline);
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'schema_drift' } });
    expect(result.error?.message).toBe(
      `The header (line 1) does not match pipeline "${pipeline.name}": missing column "id" (expected by the contract). ` +
        `"id" is NOT NULL without a default, so it cannot be filled. Fix the file or update the pipeline's columns.`,
    );
  });

  it('rejects a JSON record with a field the contract does not name, at that record', async () => {
    const pipeline = await h.freshPipeline({ columns: COLUMNS });
    const ndjson = '{"id": 1, "amount": 2}\n{"id": 2, "amt": 3, "note": "x"}\n';
    const result = await h.run(memorySource('e.ndjson', ndjson), pipeline);
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'schema_drift' } });
    expect(result.error?.message).toBe(
      `Record 2 (line 2) does not match pipeline "${pipeline.name}": unexpected column "amt" (not in the contract; did you mean "amount"?). ` +
        "Fix the file or update the pipeline's columns (onDrift: ignoreExtra skips fields the contract does not name).",
    );
    // Absent fields stay allowed: JSON producers leave out null fields.
    expect((await h.run(memorySource('ok.ndjson', '{"id": 3}\n'), pipeline)).status).toBe('loaded');

    const lenient = await h.freshPipeline({ onDrift: 'ignoreExtra', columns: COLUMNS });
    const loaded = await h.run(memorySource('e.ndjson', ndjson), lenient);
    expect(loaded).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    expect((await h.ledger(loaded.ingestionId))?.details).toMatchObject({
      drift: { unexpected: ['amt'], action: 'ignored' },
    });
  });

  it('with onDrift: freeze refuses drift as reject does (the word dlt and Airbyte use)', async () => {
    const pipeline = await h.freshPipeline({ onDrift: 'freeze' as 'reject', columns: COLUMNS });
    expect(pipeline.onDrift).toBe('reject');
    const result = await h.run(memorySource('x.csv', 'id,amount,note,extra\n1,2,3,4\n'), pipeline);
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'schema_drift' } });
  });

  describe('onDrift: discardRow rejects the rows with a value in a column the contract does not name', () => {
    // The same five rows in every format: a `coupon` column the contract lacks, filled in rows 2 and 4
    // (row 5's is empty); the contract's `note` is missing from the file and loads as NULL.
    const ROWS = [
      [1, '1.50', ''],
      [2, '2.50', 'SAVE10'],
      [3, '3.50', ''],
      [4, '4.50', 'X'],
      [5, '5.50', ''],
    ] as const;
    const csv = `id,amount,coupon\n${ROWS.map((r) => r.join(',')).join('\n')}\n`;
    const ndjson = ROWS.map(([id, amount, coupon]) =>
      JSON.stringify({ id, amount: Number(amount), coupon: coupon === '' ? null : coupon }),
    ).join('\n');
    const xlsx = handmadeXlsx({
      sheets: [
        {
          name: 'Sheet1',
          rows:
            `<row r="1">${cell.str('A1', 'id')}${cell.str('B1', 'amount')}${cell.str('C1', 'coupon')}</row>` +
            ROWS.map(
              ([id, amount, coupon], i) =>
                `<row r="${i + 2}">${cell.num(`A${i + 2}`, id)}${cell.num(`B${i + 2}`, Number(amount))}${
                  // An empty string cell is no value, as an absent one is.
                  coupon === '' ? (i === 4 ? cell.str(`C${i + 2}`, '') : '') : cell.str(`C${i + 2}`, coupon)
                }</row>`,
            ).join(''),
        },
      ],
    });
    const parquet = parquetFile({
      id: flat(
        'id',
        { type: 'INT64' },
        ROWS.map(([id]) => BigInt(id)),
        false,
      ),
      amount: flat(
        'amount',
        { type: 'DOUBLE' },
        ROWS.map(([, amount]) => Number(amount)),
      ),
      coupon: flat(
        'coupon',
        { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
        ROWS.map(([, , c]) => (c === '' ? null : c)),
      ),
    });

    it.each([
      ['CSV', 'd.csv', csv, 3],
      ['NDJSON', 'd.ndjson', ndjson, 2],
      ['XLSX', 'd.xlsx', xlsx, 3],
      ['Parquet', 'd.parquet', parquet, undefined],
    ] as const)('%s', async (_label, name, content, firstRejectLine) => {
      const pipeline = await h.freshPipeline({
        onDrift: 'discardRow',
        columns: COLUMNS,
        rejects: { maxRatio: 0.5 },
      });
      const result = await h.run(memorySource(name, content), pipeline);
      expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 3, rowsRejected: 2 });
      expect((await h.rows(pipeline, 'id')).map((row) => [row.id, row.amount, row.note])).toEqual([
        ['1', '1.50', null],
        ['3', '3.50', null],
        ['5', '5.50', null],
      ]);
      expect(result.rejects.map((r) => r.reason)).toEqual([
        'has a value in column "coupon", which the contract does not name (onDrift: discardRow)',
        'has a value in column "coupon", which the contract does not name (onDrift: discardRow)',
      ]);
      if (firstRejectLine !== undefined) expect(result.rejects[0]?.line).toBe(firstRejectLine);
      expect((await h.ledger(result.ingestionId))?.details).toMatchObject({
        drift: { unexpected: ['coupon'], action: 'discardRow' },
      });
    });

    it('loads every row when the extra column is empty throughout, and still refuses a repeated column', async () => {
      const pipeline = await h.freshPipeline({ onDrift: 'discardRow', columns: COLUMNS });
      const empty = await h.run(memorySource('e.csv', 'id,coupon\n1,\n2,""\n'), pipeline);
      expect(empty).toMatchObject({ status: 'loaded', rowsLoaded: 2, rowsRejected: 0 });
      const repeated = await h.run(memorySource('r.csv', 'id,id\n1,1\n'), pipeline);
      expect(repeated).toMatchObject({ status: 'rejected', error: { code: 'schema_drift' } });
    });
  });
});
