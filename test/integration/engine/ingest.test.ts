import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTargetTable } from '../../../src/engine/create-table.js';
import { ingest } from '../../../src/engine/ingest.js';
import type { IngestOptions } from '../../../src/engine/ingest-options.js';
import type { Pipeline } from '../../../src/model/contract.js';
import type { ObjectSource } from '../../../src/model/ingestion.js';
import { createTestDatabase, spyStatements } from '../../harness/db.js';
import { testPipeline } from '../../harness/pipelines.js';
import { memorySource } from '../../harness/sources.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = db.pool;
});
afterAll(async () => {
  await db?.drop();
});

const ORDERS_COLUMNS = [
  { name: 'order_id', type: 'bigint', nullable: false },
  { name: 'placed_at', type: 'timestamptz' },
  { name: 'customer', type: 'text', source: 'Customer Name' },
  { name: 'amount', type: 'numeric(12,2)' },
  { name: 'paid', type: 'boolean' },
];

let tableCounter = 0;
/** Each test gets its own table so tests do not see each other's rows. */
async function freshPipeline(overrides: Partial<Parameters<typeof testPipeline>[0]> = {}): Promise<Pipeline> {
  tableCounter++;
  const pipeline = testPipeline({
    name: `p${tableCounter}`,
    table: { schema: 'public', name: `t${tableCounter}` },
    columns: ORDERS_COLUMNS,
    ...overrides,
  });
  await createTargetTable(pool, pipeline);
  return pipeline;
}

/** Every behaviour below is checked with binary COPY (the default) and with the text fallback. */
let copyFormat: 'auto' | 'text' = 'auto';

async function run(source: ObjectSource, pipeline: Pipeline, options: Partial<IngestOptions> = {}) {
  return ingest(source, pipeline, {
    pool,
    copyFormat,
    retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    ...options,
  });
}

async function rows(pipeline: Pipeline, orderBy = 'order_id'): Promise<Record<string, unknown>[]> {
  const result = await pool.query(
    `SELECT * FROM "${pipeline.table.schema}"."${pipeline.table.name}" ORDER BY ${orderBy}`,
  );
  return result.rows;
}

async function ledger(pipeline: Pipeline) {
  const result = await pool.query(
    `SELECT id, status, rows_loaded, rows_rejected, error_code, content_sha256 FROM inlet.ingestions WHERE pipeline = $1 ORDER BY started_at`,
    [pipeline.name],
  );
  return result.rows;
}

const HEADER = 'order_id,placed_at,Customer Name,amount,paid\n';
const GOOD = `${HEADER}1,2024-01-02T03:04:05Z,"Lovelace, Ada",12.50,true\n2,2024-01-03 10:00:00+02:00,Hopper,7,f\n3,,,,\n`;

describe.each([
  ['binary COPY', 'auto'],
  ['text COPY', 'text'],
] as const)('%s', (_label, format) => {
  beforeAll(() => {
    copyFormat = format;
  });

  describe('ingest: append', () => {
    it('loads typed rows and writes one ledger row in the same transaction', async () => {
      const pipeline = await freshPipeline();
      const result = await run(memorySource('orders.csv', GOOD, { chunkSize: 7 }), pipeline);
      expect(result).toMatchObject({
        status: 'loaded',
        rowsLoaded: 3,
        rowsRejected: 0,
        bytes: Buffer.byteLength(GOOD),
      });
      const loaded = await rows(pipeline);
      expect(loaded.map((r) => [r.order_id, r.customer, r.amount, r.paid])).toEqual([
        ['1', 'Lovelace, Ada', '12.50', true],
        ['2', 'Hopper', '7.00', false],
        ['3', '', null, null],
      ]);
      expect((loaded[0]?.placed_at as Date | undefined)?.toISOString()).toBe('2024-01-02T03:04:05.000Z');
      expect((loaded[1]?.placed_at as Date | undefined)?.toISOString()).toBe('2024-01-03T08:00:00.000Z');
      expect(await ledger(pipeline)).toMatchObject([
        { id: result.ingestionId, status: 'loaded', rows_loaded: '3' },
      ]);
      const details = await pool.query('SELECT details FROM inlet.ingestions WHERE id = $1', [
        result.ingestionId,
      ]);
      expect(details.rows[0].details.copyFormat).toBe(format === 'auto' ? 'binary' : 'text');
    });

    it('reads offset-less timestamps in the pipeline time zone', async () => {
      const pipeline = await freshPipeline({ timezone: 'Europe/Berlin' });
      await run(memorySource('tz.csv', `${HEADER}1,2024-07-01 12:00:00,x,1,t\n`), pipeline);
      const [row] = await rows(pipeline);
      expect((row?.placed_at as Date | undefined)?.toISOString()).toBe('2024-07-01T10:00:00.000Z');
    });

    it('records each bad row with line, column, value and reason, and loads the good ones', async () => {
      const pipeline = await freshPipeline({ rejects: { maxRatio: 0.5 } });
      const csv = `${HEADER}1,2024-01-01,a,1.00,true\n2,yesterday,b,1,true\nx,2024-01-01,c,1,true\n4,2024-01-01,"multi\nline",abc,true\n5,2024-01-01,e,2,maybe\n6,2024-01-01,f,3,false\n7,2024-01-01,g,4,true\n8,2024-01-01,h,5,true\n9,2024-01-01,i,6,true\n10,2024-01-01,j,7,true\n`;
      const result = await run(memorySource('bad.csv', csv), pipeline);
      expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 6, rowsRejected: 4 });
      const rejects = await pool.query(
        'SELECT line, record, column_name, raw_value, reason FROM inlet.rejects WHERE ingestion_id = $1 ORDER BY record',
        [result.ingestionId],
      );
      expect(rejects.rows.map((r) => [r.line, r.record, r.column_name, r.raw_value])).toEqual([
        ['3', '2', 'placed_at', 'yesterday'],
        ['4', '3', 'order_id', 'x'],
        ['5', '4', 'amount', 'abc'],
        ['7', '5', 'paid', 'maybe'],
      ]);
      for (const row of rejects.rows) expect(row.reason).toMatch(/\w{4,}/);
      expect((await rows(pipeline)).map((r) => r.order_id)).toEqual(['1', '6', '7', '8', '9', '10']);
    });

    it('keeps rejects written while the file streams (before its ledger row was needed) with the loaded file', async () => {
      const pipeline = await freshPipeline({ rejects: { maxRatio: 0.5 } });
      // 2,500 bad rows among 8,000, in pieces of 16 KiB: rejects are flushed mid-stream, the first flush
      // writing the row they reference.
      let csv = HEADER;
      for (let i = 1; i <= 8000; i++) csv += `${i},2024-01-01,c,${i % 16 < 5 ? 'bad' : '1.00'},true\n`;
      const result = await run(memorySource('many-bad.csv', csv, { chunkSize: 16 * 1024 }), pipeline);
      expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 5500, rowsRejected: 2500 });
      const stored = await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM inlet.rejects WHERE ingestion_id = $1',
        [result.ingestionId],
      );
      expect(stored.rows[0]?.n).toBe(2500);
      const ledgerRow = await pool.query('SELECT status, rows_rejected FROM inlet.ingestions WHERE id = $1', [
        result.ingestionId,
      ]);
      expect(ledgerRow.rows).toEqual([{ status: 'loaded', rows_rejected: '2500' }]);
    });

    it('rejects the whole file past the threshold, loads nothing and keeps the first rejects', async () => {
      const pipeline = await freshPipeline({ rejects: { maxRatio: 0.1 } });
      const csv = `${HEADER}1,2024-01-01,a,1,t\n2,2024-01-01,b,NaN?,t\n3,2024-01-01,c,1,t\n`;
      const result = await run(memorySource('mostly-bad.csv', csv), pipeline);
      expect(result.status).toBe('rejected');
      expect(result.error?.code).toBe('too_many_rejects');
      expect(result.error?.message).toMatch(
        /1 of 3 rows were rejected \(33\.3%\).*maxRatio: 0\.1.*line 3, column "amount"/,
      );
      expect(await rows(pipeline)).toEqual([]);
      expect(await ledger(pipeline)).toMatchObject([
        { status: 'rejected', rows_loaded: '0', rows_rejected: '1' },
      ]);
      const stored = await pool.query('SELECT line, column_name FROM inlet.rejects WHERE ingestion_id = $1', [
        result.ingestionId,
      ]);
      expect(stored.rows).toEqual([{ line: '3', column_name: 'amount' }]);
    });

    it('stops early under the default policy (any bad row rejects the file) and still shows the problems', async () => {
      const pipeline = await freshPipeline();
      const body = Array.from(
        { length: 50_000 },
        (_, i) => `${i},2024-01-01,c,${i % 1000 === 7 ? 'bad' : '1'},t\n`,
      ).join('');
      const result = await run(memorySource('big-bad.csv', HEADER + body), pipeline);
      expect(result.status).toBe('rejected');
      expect(result.rejects.length).toBeGreaterThanOrEqual(20);
      expect(result.rejects[0]).toMatchObject({ line: 9, column: 'amount', value: 'bad' });
      expect(await rows(pipeline)).toEqual([]);
    });

    it('honours maxRejects', async () => {
      const pipeline = await freshPipeline({ rejects: { maxRejects: 1 } });
      const one = `${HEADER}1,2024-01-01,a,x,t\n2,2024-01-01,b,1,t\n`;
      expect((await run(memorySource('one.csv', one), pipeline)).status).toBe('loaded');
      const two = `${HEADER}1,2024-01-01,a,x,t\n2,2024-01-01,b,y,t\n`;
      expect((await run(memorySource('two.csv', two), pipeline)).status).toBe('rejected');
    });

    it('enforces NOT NULL and uses defaults for empty fields', async () => {
      const pipeline = await freshPipeline({
        rejects: { maxRatio: 1 },
        columns: [
          { name: 'order_id', type: 'bigint', nullable: false },
          { name: 'placed_at', type: 'timestamptz' },
          { name: 'customer', type: 'text', source: 'Customer Name' },
          { name: 'amount', type: 'numeric(12,2)', default: '0' },
          { name: 'paid', type: 'boolean', nullable: false },
        ],
      });
      const result = await run(memorySource('nn.csv', `${HEADER}1,,a,,t\n,,b,1,t\n3,,c,1,\n`), pipeline);
      expect(result).toMatchObject({ rowsLoaded: 1, rowsRejected: 2 });
      expect(result.rejects.map((r) => [r.line, r.column, r.reason])).toEqual([
        [3, 'order_id', 'is required (NOT NULL) but empty'],
        [4, 'paid', 'is required (NOT NULL) but empty'],
      ]);
      expect((await rows(pipeline))[0]).toMatchObject({ order_id: '1', amount: '0.00' });
    });
  });

  describe('ingest: exactly once', () => {
    it('reports a second delivery of the same file as a duplicate and writes nothing', async () => {
      const pipeline = await freshPipeline();
      const first = await run(memorySource('orders.csv', GOOD), pipeline);
      const second = await run(memorySource('orders.csv', GOOD, { chunkSize: 3 }), pipeline);
      expect(second).toMatchObject({ status: 'duplicate', ingestionId: first.ingestionId, rowsLoaded: 0 });
      expect(await rows(pipeline)).toHaveLength(3);
      expect(await ledger(pipeline)).toHaveLength(1);
    });

    it('skips by version id before reading the object', async () => {
      const pipeline = await freshPipeline();
      await run(memorySource('v.csv', GOOD, { versionId: 'v1' }), pipeline);
      let opened = false;
      const again = {
        ...memorySource('v.csv', GOOD, { versionId: 'v1' }),
        open: async () => {
          opened = true;
          throw new Error('must not be read');
        },
      };
      expect((await run(again, pipeline)).status).toBe('duplicate');
      expect(opened).toBe(false);
    });

    it('loads changed content under the same name, and the same content again with force', async () => {
      const pipeline = await freshPipeline();
      await run(memorySource('orders.csv', GOOD), pipeline);
      const changed = `${HEADER}4,,d,1,t\n`;
      expect((await run(memorySource('orders.csv', changed), pipeline)).status).toBe('loaded');
      const forced = await run(memorySource('orders.csv', GOOD), pipeline, { force: true });
      expect(forced.status).toBe('loaded');
      expect(await rows(pipeline)).toHaveLength(7);
      expect((await ledger(pipeline)).map((r) => r.status)).toEqual(['loaded', 'loaded', 'loaded']);
    });

    it('serialises concurrent deliveries of one file: one loads, the others are duplicates', async () => {
      const pipeline = await freshPipeline();
      const body = HEADER + Array.from({ length: 20_000 }, (_, i) => `${i},2024-01-01,c,1,t\n`).join('');
      const results = await Promise.all(
        [1, 2, 3, 4].map(() => run(memorySource('same.csv', body, { chunkSize: 4096 }), pipeline)),
      );
      expect(results.map((r) => r.status).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'loaded']);
      expect(
        (await pool.query(`SELECT count(*)::int AS n FROM "public"."${pipeline.table.name}"`)).rows[0].n,
      ).toBe(20_000);
      expect(await ledger(pipeline)).toHaveLength(1);
    });

    it('returns the recorded verdict when a front door hands the same ingestion id over again', async () => {
      const pipeline = await freshPipeline();
      const ingestionId = '01a2140d-0000-7000-8000-000000000001'.replace(
        '0001',
        String(tableCounter).padStart(4, '0'),
      );
      const first = await run(memorySource('resumed.csv', GOOD), pipeline, { ingestionId });
      expect(first).toMatchObject({ status: 'loaded', ingestionId, rowsLoaded: 3 });
      // A worker resuming after a crash past COMMIT: the same id, the same bytes. It must not turn the
      // loaded row into a duplicate of itself.
      const again = await run(memorySource('resumed.csv', GOOD), pipeline, { ingestionId });
      expect(again).toMatchObject({ status: 'loaded', ingestionId, rowsLoaded: 3 });
      expect((await ledger(pipeline)).map((r) => [r.id, r.status])).toEqual([[ingestionId, 'loaded']]);
      expect(await rows(pipeline)).toHaveLength(3);
    });

    it('stops promptly when aborted mid-COPY, loads nothing and frees its connection', async () => {
      const pipeline = await freshPipeline();
      const body = HEADER + Array.from({ length: 50_000 }, (_, i) => `${i},2024-01-01,c,1,t\n`).join('');
      const controller = new AbortController();
      let rowsSeen = 0;
      const result = await run(
        memorySource('aborted.csv', body, { chunkSize: 16 * 1024, chunkDelayMs: 1 }),
        pipeline,
        {
          signal: controller.signal,
          onProgress: (progress) => {
            rowsSeen = progress.rows;
            if (rowsSeen > 1000) controller.abort(new Error('the server is stopping'));
          },
        },
      );
      expect(rowsSeen).toBeGreaterThan(1000);
      expect(result.status).toBe('failed');
      expect(await rows(pipeline)).toEqual([]);
      // Every connection is back: a COPY left open would hold one forever.
      expect(pool.totalCount - pool.idleCount).toBe(0);
    });

    it('validates without committing in a dry run', async () => {
      const pipeline = await freshPipeline();
      const result = await run(memorySource('dry.csv', GOOD), pipeline, { dryRun: true });
      expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 3 });
      expect(await rows(pipeline)).toEqual([]);
      expect(await ledger(pipeline)).toEqual([]);
    });
  });

  describe('ingest: upsert and replace', () => {
    const keyed = { mode: 'upsert' as const, key: ['order_id'] };

    it('upserts by key; the last row of a key in a file wins', async () => {
      const pipeline = await freshPipeline(keyed);
      await run(memorySource('a.csv', `${HEADER}1,,first,1,t\n2,,second,2,t\n`), pipeline);
      const result = await run(
        memorySource('b.csv', `${HEADER}2,,updated,20,f\n3,,new,3,t\n3,,newer,4,t\n`),
        pipeline,
      );
      expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
      expect((await rows(pipeline)).map((r) => [r.order_id, r.customer, r.amount])).toEqual([
        ['1', 'first', '1.00'],
        ['2', 'updated', '20.00'],
        ['3', 'newer', '4.00'],
      ]);
    });

    it('rejects every row of a repeated key with duplicateKeys: reject, naming the other lines', async () => {
      const pipeline = await freshPipeline({ ...keyed, duplicateKeys: 'reject', rejects: { maxRatio: 1 } });
      const result = await run(memorySource('d.csv', `${HEADER}1,,a,1,t\n2,,b,1,t\n1,,c,1,t\n`), pipeline);
      expect(result).toMatchObject({ rowsLoaded: 1, rowsRejected: 2 });
      expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([
        [2, 'duplicate key (order_id)=(1) also on line 4 (duplicateKeys: reject)'],
        [4, 'duplicate key (order_id)=(1) also on line 2 (duplicateKeys: reject)'],
      ]);
    });

    it('replaces the whole table content atomically', async () => {
      const pipeline = await freshPipeline({ mode: 'replace', key: ['order_id'] });
      await run(memorySource('r1.csv', `${HEADER}1,,a,1,t\n2,,b,1,t\n`), pipeline);
      await run(memorySource('r2.csv', `${HEADER}3,,c,1,t\n`), pipeline);
      expect((await rows(pipeline)).map((r) => r.order_id)).toEqual(['3']);
    });

    it('keeps a rejected replacement from touching the table', async () => {
      const pipeline = await freshPipeline({ mode: 'replace', key: ['order_id'] });
      await run(memorySource('r1.csv', `${HEADER}1,,a,1,t\n`), pipeline);
      expect((await run(memorySource('r2.csv', `${HEADER}x,,c,1,t\n`), pipeline)).status).toBe('rejected');
      expect((await rows(pipeline)).map((r) => r.order_id)).toEqual(['1']);
    });

    it('never lets an older version of an object overwrite a newer one (F3)', async () => {
      const pipeline = await freshPipeline(keyed);
      const v2 = memorySource('o.csv', `${HEADER}1,,version two,2,t\n`, {
        uri: 's3://b/o.csv',
        order: '0000000002',
      });
      const v1 = memorySource('o.csv', `${HEADER}1,,version one,1,t\n`, { uri: 's3://b/o.csv', order: '01' });
      expect((await run(v2, pipeline)).status).toBe('loaded');
      expect((await run(v1, pipeline)).status).toBe('superseded');
      expect((await rows(pipeline)).map((r) => r.customer)).toEqual(['version two']);
    });
  });

  describe('ingest: formats', () => {
    it('loads gzip-compressed CSV detected by magic bytes, whatever the name', async () => {
      const pipeline = await freshPipeline();
      const result = await run(memorySource('orders.csv', gzipSync(GOOD), { chunkSize: 5 }), pipeline);
      expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 3 });
    });

    it('rejects a truncated gzip file with a clear error and loads nothing (B15)', async () => {
      const pipeline = await freshPipeline();
      const zipped = gzipSync(HEADER + '1,,a,1,t\n'.repeat(5000));
      const result = await run(memorySource('cut.csv.gz', zipped.subarray(0, zipped.length - 40)), pipeline);
      expect(result.status).toBe('rejected');
      expect(result.error?.code).toBe('corrupt_gzip');
      expect(result.error?.message).toMatch(/truncated/);
      expect(await rows(pipeline)).toEqual([]);
    });

    it('stops a gzip bomb at the decompressed-size cap (B4)', async () => {
      const pipeline = await freshPipeline({ limits: { maxDecompressedBytes: 1_000_000 } });
      const bomb = gzipSync(Buffer.alloc(50_000_000, 0x41));
      expect(bomb.length).toBeLessThan(100_000);
      const result = await run(memorySource('bomb.csv.gz', bomb), pipeline);
      expect(result).toMatchObject({ status: 'rejected', error: { code: 'decompressed_too_large' } });
    });

    it('refuses a gzip that expands past limits.maxCompressionRatio early, and loads it when raised (B20)', async () => {
      const pipeline = await freshPipeline();
      // A header and 64 MiB of blank lines: about 64 KiB of gzip, a ratio near 1000.
      const bomb = gzipSync(Buffer.concat([Buffer.from(HEADER), Buffer.alloc(64 << 20, 0x0a)]));
      const result = await run(memorySource('blank.csv.gz', bomb), pipeline);
      expect(result).toMatchObject({ status: 'rejected', error: { code: 'compression_ratio' } });
      expect(result.error?.message).toMatch(/limits\.maxCompressionRatio/);
      expect(await rows(pipeline)).toEqual([]);
      const raised = await freshPipeline({ limits: { maxCompressionRatio: 5000 } });
      expect((await run(memorySource('blank.csv.gz', bomb), raised)).status).toBe('loaded');
    });

    it('loads TSV, NDJSON and JSON arrays', async () => {
      const pipeline = await freshPipeline();
      const tsv = 'order_id\tplaced_at\tCustomer Name\tamount\tpaid\n1\t\ttab\t1\tt\n';
      const ndjson =
        '{"order_id": 2, "Customer Name": "nd", "amount": 2.5, "paid": true}\n\n{"order_id": "3", "paid": null}\n';
      const json = '[{"order_id": 4, "Customer Name": "arr", "amount": "4.25", "paid": false}]';
      expect((await run(memorySource('x.tsv', tsv), pipeline)).status).toBe('loaded');
      expect((await run(memorySource('x.ndjson', ndjson), pipeline)).status).toBe('loaded');
      expect((await run(memorySource('x.json', json), pipeline)).status).toBe('loaded');
      expect((await rows(pipeline)).map((r) => [r.order_id, r.customer, r.amount, r.paid])).toEqual([
        ['1', 'tab', '1.00', true],
        ['2', 'nd', '2.50', true],
        ['3', null, null, null],
        ['4', 'arr', '4.25', false],
      ]);
    });

    it('rejects a JSON record that is not an object, or a field that is not a single value', async () => {
      const pipeline = await freshPipeline({ rejects: { maxRatio: 1 } });
      const result = await run(
        memorySource('x.ndjson', '[1]\n{"order_id": {"a": 1}}\n{"order_id": 9}\nnot json\n'),
        pipeline,
      );
      expect(result.rowsLoaded).toBe(1);
      expect(result.rejects.map((r) => [r.line, r.column, r.reason.slice(0, 24)])).toEqual([
        [1, undefined, 'expected a JSON object, '],
        [2, 'order_id', 'expected a single value,'],
        [4, undefined, expect.any(String)],
      ]);
    });

    it('reads Latin-1 when the pipeline says so', async () => {
      const pipeline = await freshPipeline({ csv: { encoding: 'latin1' } });
      const bytes = Buffer.from(`${HEADER}1,,Müller Café,1,t\n`, 'latin1');
      expect((await run(memorySource('l1.csv', bytes), pipeline)).status).toBe('loaded');
      expect((await rows(pipeline))[0]?.customer).toBe('Müller Café');
    });

    it('handles a header-only file as loaded with no rows', async () => {
      const pipeline = await freshPipeline();
      expect(await run(memorySource('h.csv', HEADER), pipeline)).toMatchObject({
        status: 'loaded',
        rowsLoaded: 0,
      });
    });

    it('creates the table from the contract with the key as primary key', async () => {
      const pipeline = await freshPipeline({ mode: 'upsert', key: ['order_id'] });
      const pk = await pool.query(
        `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
          WHERE i.indrelid = $1::regclass AND i.indisprimary`,
        [`public.${pipeline.table.name}`],
      );
      expect(pk.rows).toEqual([{ attname: 'order_id' }]);
    });
  });

  describe('ingest: bad inputs (docs/guarantees.md)', () => {
    let pipeline: Pipeline;
    beforeEach(async () => {
      pipeline = await freshPipeline({ rejects: { maxRatio: 1 } });
    });

    it('B1: an empty file is rejected clearly', async () => {
      const result = await run(memorySource('empty.csv', ''), pipeline);
      expect(result).toMatchObject({ status: 'rejected', error: { code: 'empty_file' } });
      expect(await ledger(pipeline)).toMatchObject([{ status: 'rejected', error_code: 'empty_file' }]);
    });

    it('B13: a BOM-only file has no header: rejected as empty', async () => {
      const result = await run(memorySource('bom.csv', Buffer.from([0xef, 0xbb, 0xbf])), pipeline);
      expect(result).toMatchObject({ status: 'rejected', error: { code: 'empty_file' } });
    });

    it('B13: BOM, mixed CRLF/LF, embedded newlines and doubled quotes parse as RFC 4180 says', async () => {
      const csv = `\ufeff${HEADER.trimEnd()}\r\n1,,"say ""hi""\r\nthere",1,t\n2,,plain,2,f\r\n`;
      expect(await run(memorySource('rfc.csv', csv), pipeline)).toMatchObject({
        status: 'loaded',
        rowsLoaded: 2,
      });
      expect((await rows(pipeline)).map((r) => r.customer)).toEqual(['say "hi"\r\nthere', 'plain']);
    });

    it('B6: a PNG declared as CSV is refused as not a CSV', async () => {
      const png = Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        Buffer.alloc(100),
      ]);
      const csvPipeline = await freshPipeline({ format: 'csv' });
      const result = await run(memorySource('image.csv', png), csvPipeline);
      expect(result).toMatchObject({ status: 'rejected', error: { code: 'not_tabular' } });
      expect(result.error?.message).toMatch(/Not a CSV file: the content is a PNG image/);
    });

    it('B6: random bytes are refused as binary', async () => {
      const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251));
      const result = await run(memorySource('noise.csv', random), pipeline);
      expect(result).toMatchObject({ status: 'rejected', error: { code: 'not_tabular' } });
    });

    it('B11: a NUL byte or invalid UTF-8 rejects that row with line and reason, never a half-loaded file', async () => {
      const csv = Buffer.concat([
        Buffer.from(`${HEADER}1,,ok,1,t\n2,,nul`),
        Buffer.from([0x00]),
        Buffer.from('here,1,t\n3,,bad'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(',1,t\n4,,fine,1,t\n'),
      ]);
      // Declared UTF-8: under `auto`, bytes that are not UTF-8 would be read as Windows-1252 (below).
      const utf8 = await freshPipeline({ rejects: { maxRatio: 1 }, csv: { encoding: 'utf8' } });
      const result = await run(memorySource('b11.csv', csv), utf8);
      expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 2, rowsRejected: 2 });
      expect(result.rejects.map((r) => [r.line, r.column, r.reason])).toEqual([
        [3, 'customer', 'contains a NUL byte, which PostgreSQL cannot store in text'],
        [4, 'customer', expect.stringMatching(/^is not valid UTF-8/)],
      ]);
      const strict = await freshPipeline({ csv: { encoding: 'utf8' } });
      expect((await run(memorySource('b11.csv', csv), strict)).status).toBe('rejected');
      expect(await rows(strict)).toEqual([]);
      // The default reads the first bytes past ASCII that are not UTF-8 as Windows-1252; the NUL is still refused.
      const detected = await run(memorySource('b11.csv', csv), pipeline);
      expect(detected).toMatchObject({ status: 'loaded', rowsLoaded: 3, rowsRejected: 1 });
      expect((await rows(pipeline)).map((row) => row.customer)).toEqual(['ok', 'badÃ(', 'fine']);
    });

    it('B12: missing and extra columns name the columns and the line', async () => {
      const result = await run(
        memorySource('drift.csv', 'order_id,placed_at,amount,paid,extra\n1,,1,t,x\n'),
        pipeline,
      );
      expect(result).toMatchObject({ status: 'rejected', error: { code: 'schema_drift' } });
      expect(result.error?.message).toMatch(
        /line 1.*missing column "Customer Name" \(expected by the contract\); unexpected column "extra" \(not in the contract\)/,
      );
    });

    it('B12: ragged rows are rejected with their field count', async () => {
      const result = await run(
        memorySource('ragged.csv', `${HEADER}1,,a,1\n2,,b,1,t,extra\n3,,c,1,t\n`),
        pipeline,
      );
      expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([
        [2, 'has 4 fields, expected 5 (as in the header)'],
        [3, 'has 6 fields, expected 5 (as in the header)'],
      ]);
      expect(result.rowsLoaded).toBe(1);
    });

    it('B12: extra columns are skipped with onDrift: ignoreExtra', async () => {
      const lenient = await freshPipeline({ onDrift: 'ignoreExtra' });
      const csv = 'extra,order_id,placed_at,Customer Name,amount,paid\nx,1,,a,1,t\n';
      expect(await run(memorySource('extra.csv', csv), lenient)).toMatchObject({
        status: 'loaded',
        rowsLoaded: 1,
      });
    });

    it('B9: a hostile or over-long header never becomes SQL', async () => {
      const hostile = `order_id,placed_at,Customer Name,amount,paid,"x""; DROP TABLE ${pipeline.table.name}; --",${'y'.repeat(70)}\n1,,a,1,t,1,2\n`;
      const result = await run(memorySource('hostile.csv', hostile), pipeline);
      expect(result).toMatchObject({ status: 'rejected', error: { code: 'schema_drift' } });
      expect(result.error?.message).toContain('unexpected columns "x\\"; DROP TABLE');
      expect(await rows(pipeline)).toEqual([]);
    });

    it('B10: a formula-looking cell is stored as is', async () => {
      const csv = `${HEADER}1,,"=HYPERLINK(""http://x"")",1,t\n`;
      await run(memorySource('formula.csv', csv), pipeline);
      expect((await rows(pipeline))[0]?.customer).toBe('=HYPERLINK("http://x")');
    });

    it('reports a missing table with what to do', async () => {
      const missing = testPipeline({
        name: 'missing',
        table: { schema: 'public', name: 'nope' },
        createTable: false,
        columns: ORDERS_COLUMNS,
      });
      const result = await run(memorySource('m.csv', GOOD), missing);
      expect(result.status).toBe('failed');
      expect(result.error?.message).toMatch(/Table public\.nope does not exist.*createTable: true/);
    });
  });

  describe('ingest: createTable', () => {
    it('creates the schema and table on first use when the pipeline says so', async () => {
      const pipeline = testPipeline({
        name: `fresh_${format}`,
        table: { schema: 'fresh_schema', name: `made_by_inlet_${format}` },
        createTable: true,
        columns: ORDERS_COLUMNS,
      });
      expect(await run(memorySource('f.csv', GOOD), pipeline)).toMatchObject({
        status: 'loaded',
        rowsLoaded: 3,
      });
      const { rows: count } = await pool.query(
        `SELECT count(*)::int AS n FROM fresh_schema.made_by_inlet_${format}`,
      );
      expect(count[0].n).toBe(3);
    });
  });

  describe('ingest: cheap duplicates', () => {
    it('settles a re-sent file of a loaded size by its hash, before any row is copied', async () => {
      const pipeline = await freshPipeline();
      await run(memorySource('same-size.csv', GOOD), pipeline);
      const statements: string[] = [];
      const spied = spyStatements(pool, statements);
      const result = await run(memorySource('same-size.csv', GOOD), pipeline, { pool: spied });
      expect(result.status).toBe('duplicate');
      expect(statements.some((s) => s.startsWith('COPY'))).toBe(false);
      const changed = GOOD.replace('Hopper', 'Hoppex');
      expect((await run(memorySource('same-size.csv', changed), pipeline, { pool: spied })).status).toBe(
        'loaded',
      );
      expect(statements.some((s) => s.startsWith('COPY'))).toBe(true);
    });

    it('asks about a declared content hash before reading, and not again after the COPY when it holds', async () => {
      const pipeline = await freshPipeline();
      const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
      const statements: string[] = [];
      const spied = spyStatements(pool, statements);
      let opened = 0;
      const declared = (name: string, text: string, hash = sha256(text)) => {
        const source = memorySource(name, text, { sha256: hash });
        return {
          ...source,
          open: () => {
            opened++;
            return source.open();
          },
        };
      };
      const lookupsAfterCopy = () => statements.filter((s) => s.includes('content_sha256 = $3')).length;

      expect((await run(declared('declared.csv', GOOD), pipeline, { pool: spied })).status).toBe('loaded');
      expect(lookupsAfterCopy()).toBe(0);
      // The same bytes again, under the same name: a duplicate before a byte is read.
      opened = 0;
      const again = await run(declared('declared.csv', GOOD), pipeline, { pool: spied });
      expect(again.status).toBe('duplicate');
      expect(opened).toBe(0);
      // A declared hash the bytes do not have is not trusted: the content is looked up as read, and a
      // load of the same bytes is still found.
      const wrong = await run(declared('declared.csv', GOOD, sha256('something else')), pipeline, {
        pool: spied,
      });
      expect(wrong.status).toBe('duplicate');
      expect(lookupsAfterCopy()).toBe(1);
      expect(await rows(pipeline)).toHaveLength(3);
    });

    it('loads a small clean file in five round trips, six without a declared hash, four forced', async () => {
      const pipeline = await freshPipeline();
      const statements: string[] = [];
      const spied = spyStatements(pool, statements);
      // The first load through this pool creates the table; the counted ones do not.
      await run(memorySource('warm.csv', GOOD), pipeline, { pool: spied });
      const text = GOOD.replace('Hopper', 'Hoppey');
      const sha256 = createHash('sha256').update(text).digest('hex');
      statements.length = 0;
      expect((await run(memorySource('a.csv', text, { sha256 }), pipeline, { pool: spied })).status).toBe(
        'loaded',
      );
      // BEGIN with the lock, the ledger before reading, COPY, the verdict's row, COMMIT.
      expect(statements.map((s) => s.split(/\s+/, 2).join(' '))).toEqual([
        'BEGIN; SELECT',
        'SELECT s.status,',
        expect.stringMatching(/^COPY /),
        'INSERT INTO',
        'COMMIT',
      ]);
      statements.length = 0;
      expect((await run(memorySource('b.csv', text), pipeline, { pool: spied })).status).toBe('loaded');
      expect(statements).toHaveLength(6);
      // Forced (`inlet ingest --force`): nothing to ask the ledger before reading, so nothing is sent.
      statements.length = 0;
      expect((await run(memorySource('b.csv', text), pipeline, { pool: spied, force: true })).status).toBe(
        'loaded',
      );
      expect(statements.map((s) => s.split(/\s+/, 2).join(' '))).toEqual([
        'BEGIN; SELECT',
        expect.stringMatching(/^COPY /),
        'INSERT INTO',
        'COMMIT',
      ]);
      // Four loads of three rows: the forced one loaded its rows again.
      expect(await rows(pipeline)).toHaveLength(12);
    });
  });
});
