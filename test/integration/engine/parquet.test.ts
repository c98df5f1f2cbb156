import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../src/gateway/server.js';
import { fileSource } from '../../../src/storage/file-source.js';
import { objectSource } from '../../../src/storage/object-source.js';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import { AMOUNT_RENAMED_TO_AMT_DETAILS, COPY_FORMATS, engineHarness } from '../../harness/engine.js';
import { flat, parquetFile, textList, withFooter } from '../../harness/parquet.js';
import { memorySource } from '../../harness/sources.js';

const h = engineHarness('pq');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet-parquet-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const utc = (unit: 'MILLIS' | 'MICROS' | 'NANOS', isAdjustedToUTC = true) =>
  ({ type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC, unit } }) as const;

/** One nullable INT64 `id` column holding 0 to rows - 1: for the tests about row groups, not types. */
function parquetOfIds(rows: number, options: Parameters<typeof parquetFile>[1]): Buffer {
  const ids = Array.from({ length: rows }, (_, i) => BigInt(i));
  return parquetFile({ id: flat('id', { type: 'INT64' }, ids) }, options);
}

/** One column of every physical and logical type the contract can map, three rows, the last mostly null. */
function everyType(): Buffer {
  return parquetFile(
    {
      id: flat('id', { type: 'INT64' }, [1n, 2n, 3n], false),
      small: flat(
        'small',
        { type: 'INT32', logical_type: { type: 'INTEGER', bitWidth: 16, isSigned: true } },
        [1, -2, null],
      ),
      i32: flat('i32', { type: 'INT32' }, [2147483647, -5, null]),
      u32: flat('u32', { type: 'INT32', converted_type: 'UINT_32' }, [4294967295, 0, null]),
      f32: flat('f32', { type: 'FLOAT' }, [0.1, 1.5, null]),
      f64: flat('f64', { type: 'DOUBLE' }, [0.1, 1e21, null]),
      ok: flat('ok', { type: 'BOOLEAN' }, [true, false, null]),
      name: flat('name', { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }, [
        'Ada "Lovelace"\ttab\\',
        'ü€ line\nbreak',
        null,
      ]),
      amount: flat(
        'amount',
        {
          type: 'FIXED_LEN_BYTE_ARRAY',
          type_length: 9,
          converted_type: 'DECIMAL',
          precision: 20,
          scale: 4,
          logical_type: { type: 'DECIMAL', precision: 20, scale: 4 },
        },
        [12345678901234567n, -5n, null],
      ),
      price: flat(
        'price',
        {
          type: 'INT32',
          converted_type: 'DECIMAL',
          precision: 9,
          scale: 2,
          logical_type: { type: 'DECIMAL', precision: 9, scale: 2 },
        },
        [12345n, -1n, null],
      ),
      day: flat('day', { type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }, [
        19000,
        -1,
        null,
      ]),
      at_us: flat('at_us', utc('MICROS'), [1700000000123456n, 0n, null]),
      at_ms: flat('at_ms', utc('MILLIS'), [1700000000123n, -1n, null]),
      at_ns_local: flat('at_ns_local', utc('NANOS', false), [1700000000123456789n, 1n, null]),
      uid: flat('uid', { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } }, [
        '12345678-1234-1234-1234-123456789abc',
        null,
        null,
      ]),
      doc: flat('doc', { type: 'BYTE_ARRAY', converted_type: 'JSON', logical_type: { type: 'JSON' } }, [
        { a: [1, 'x'] },
        7,
        null,
      ]),
      tags: textList('tags', [['a', 'b'], [], null]),
      point: {
        schema: [
          { name: 'point', repetition_type: 'OPTIONAL', num_children: 2 },
          { name: 'x', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
          { name: 'when', repetition_type: 'OPTIONAL', ...utc('MICROS') },
        ],
        data: [{ x: 1.5, when: 1700000000123456n }, { x: null, when: null }, null],
      },
      attrs: {
        schema: [
          {
            name: 'attrs',
            repetition_type: 'OPTIONAL',
            num_children: 1,
            converted_type: 'MAP',
            logical_type: { type: 'MAP' },
          },
          { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
          { name: 'key', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8' },
          { name: 'value', type: 'INT64', repetition_type: 'OPTIONAL' },
        ],
        data: [{ k: 9007199254740993n }, {}, null],
      },
    },
    { rowGroupSize: 2 },
  );
}

const EVERY_TYPE_COLUMNS = [
  { name: 'id', type: 'bigint', nullable: false },
  { name: 'small', type: 'smallint' },
  { name: 'i32', type: 'integer' },
  { name: 'u32', type: 'bigint' },
  { name: 'f32', type: 'real' },
  { name: 'f64', type: 'double precision' },
  { name: 'ok', type: 'boolean' },
  { name: 'name', type: 'text' },
  { name: 'amount', type: 'numeric(20,4)' },
  { name: 'price', type: 'numeric(9,2)' },
  { name: 'day', type: 'date' },
  { name: 'at_us', type: 'timestamptz' },
  { name: 'at_ms', type: 'timestamp' },
  { name: 'at_ns_local', type: 'timestamp' },
  { name: 'uid', type: 'uuid' },
  { name: 'doc', type: 'jsonb' },
  { name: 'tags', type: 'jsonb' },
  { name: 'point', type: 'jsonb' },
  { name: 'attrs', type: 'jsonb' },
];

async function asText(table: string) {
  const columns = EVERY_TYPE_COLUMNS.map((c) =>
    c.type === 'timestamptz' ? `(${c.name} AT TIME ZONE 'UTC')::text AS ${c.name}` : `${c.name}::text`,
  );
  const { rows } = await h.state.pool.query(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY id`);
  return rows;
}

describe.each(COPY_FORMATS)('%s', (_label, format) => {
  beforeAll(() => {
    h.state.copyFormat = format;
  });

  it('maps every physical and logical type to the contract types, nulls included', async () => {
    const pipeline = await h.freshPipeline({ columns: EVERY_TYPE_COLUMNS });
    const bytes = everyType();
    const result = await h.run(memorySource('every.parquet', bytes, { ranged: true }), pipeline);
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 3, rowsRejected: 0 });
    expect(await asText(`public.${pipeline.table.name}`)).toEqual([
      {
        id: '1',
        small: '1',
        i32: '2147483647',
        u32: '4294967295',
        f32: '0.1',
        f64: '0.1',
        ok: 'true',
        name: 'Ada "Lovelace"\ttab\\',
        amount: '1234567890123.4567',
        price: '123.45',
        day: '2022-01-08',
        at_us: '2023-11-14 22:13:20.123456',
        at_ms: '2023-11-14 22:13:20.123',
        at_ns_local: '2023-11-14 22:13:20.123457',
        uid: '12345678-1234-1234-1234-123456789abc',
        doc: '{"a": [1, "x"]}',
        tags: '["a", "b"]',
        point: '{"x": 1.5, "when": "2023-11-14T22:13:20.123456Z"}',
        attrs: '{"k": 9007199254740993}',
      },
      {
        id: '2',
        small: '-2',
        i32: '-5',
        u32: '0',
        f32: '1.5',
        f64: '1e+21',
        ok: 'false',
        name: 'ü€ line\nbreak',
        amount: '-0.0005',
        price: '-0.01',
        day: '1969-12-31',
        at_us: '1970-01-01 00:00:00',
        at_ms: '1969-12-31 23:59:59.999',
        at_ns_local: '1970-01-01 00:00:00',
        uid: null,
        doc: '7',
        tags: '[]',
        point: '{"x": null, "when": null}',
        attrs: '{}',
      },
      {
        id: '3',
        small: null,
        i32: null,
        u32: null,
        f32: null,
        f64: null,
        ok: null,
        name: null,
        amount: null,
        price: null,
        day: null,
        at_us: null,
        at_ms: null,
        at_ns_local: null,
        uid: null,
        doc: null,
        tags: null,
        point: null,
        attrs: null,
      },
    ]);
    const ledger = await h.ledger(result.ingestionId);
    expect(ledger?.details).toMatchObject({
      format: 'parquet',
      // Nested columns: hyparquet decodes the file.
      parquet: { rowGroups: 2, rows: 3, read: 'ranged', decodedBy: { arrowRs: 0, hyparquet: 2 } },
    });
  });

  it('rejects a value that does not fit its column with record number, column and reason', async () => {
    const pipeline = await h.freshPipeline({
      columns: [
        { name: 'id', type: 'bigint', nullable: false },
        { name: 'qty', type: 'smallint' },
        { name: 'note', type: 'varchar(3)' },
      ],
      rejects: { maxRatio: 1 },
    });
    const file = parquetFile({
      id: flat('id', { type: 'INT64' }, [1n, 2n, null, 4n]),
      qty: flat('qty', { type: 'INT64' }, [1n, 70000n, 3n, 4n]),
      note: flat('note', { type: 'BYTE_ARRAY', converted_type: 'UTF8' }, ['abc', 'x', 'y', 'toolong']),
    });
    const result = await h.run(memorySource('bad.parquet', file), pipeline);
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 1, rowsRejected: 3 });
    expect(result.rejects.map((r) => [r.record, r.line, r.column, r.value, r.reason])).toEqual([
      [2, undefined, 'qty', '70000', expect.stringMatching(/^out of range for smallint/)],
      [3, undefined, 'id', undefined, 'is required (NOT NULL) but empty'],
      [4, undefined, 'note', 'toolong', expect.stringMatching(/longer than 3|too long/)],
    ]);
    const stored = await h.state.pool.query(
      'SELECT record, line, column_name FROM inlet.rejects WHERE ingestion_id = $1 ORDER BY record',
      [result.ingestionId],
    );
    expect(stored.rows).toEqual([
      { record: '2', line: null, column_name: 'qty' },
      { record: '3', line: null, column_name: 'id' },
      { record: '4', line: null, column_name: 'note' },
    ]);
  });

  it('reads local timestamps in the pipeline time zone, and instants into timestamp as UTC wall time', async () => {
    const pipeline = await h.freshPipeline({
      timezone: 'Europe/Berlin',
      columns: [
        { name: 'local', type: 'timestamptz' },
        { name: 'instant', type: 'timestamp' },
        { name: 'legacy', type: 'text' },
      ],
    });
    const noon = BigInt(Date.UTC(2024, 6, 1, 12)) * 1000n;
    const file = parquetFile({
      local: flat('local', utc('MICROS', false), [noon]),
      instant: flat('instant', utc('MICROS'), [noon]),
      legacy: flat('legacy', { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' }, [noon / 1000n]),
    });
    expect((await h.run(memorySource('tz.parquet', file), pipeline)).status).toBe('loaded');
    const { rows } = await h.state.pool.query(
      `SELECT (local AT TIME ZONE 'UTC')::text AS local, instant::text, legacy FROM public.${pipeline.table.name}`,
    );
    expect(rows).toEqual([
      { local: '2024-07-01 10:00:00', instant: '2024-07-01 12:00:00', legacy: '2024-07-01T12:00:00Z' },
    ]);
  });

  it('rejects schema drift with the exact diff, and stores it in the ledger', async () => {
    const pipeline = await h.freshPipeline({
      columns: [
        { name: 'id', type: 'bigint' },
        { name: 'amount', type: 'numeric' },
      ],
    });
    const file = parquetFile({
      amt: flat('amt', { type: 'DOUBLE' }, [1.5]),
      id: flat('id', { type: 'INT64' }, [1n]),
    });
    const result = await h.run(memorySource('drift.parquet', file), pipeline);
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'schema_drift' } });
    expect(result.error?.message).toBe(
      `The Parquet schema does not match pipeline "${pipeline.name}": missing column "amount" (expected by the contract); ` +
        `unexpected column "amt" (not in the contract; did you mean "amount"?). ` +
        "Fix the file or update the pipeline's columns (onDrift: ignoreExtra skips extra columns and fills missing ones with NULL).",
    );
    expect((await h.ledger(result.ingestionId))?.details).toEqual(AMOUNT_RENAMED_TO_AMT_DETAILS);
  });

  it('with onDrift: ignoreExtra skips extra columns without decoding them and fills missing nullable ones', async () => {
    const pipeline = await h.freshPipeline({
      onDrift: 'ignoreExtra',
      columns: [
        { name: 'id', type: 'bigint', nullable: false },
        { name: 'note', type: 'text' },
      ],
    });
    const file = parquetFile({
      id: flat('id', { type: 'INT64' }, [1n, 2n]),
      // An INTERVAL column could not be read at all: it must not be touched when unused.
      span: flat('span', { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 12, converted_type: 'INTERVAL' }, [
        new Uint8Array(12),
        new Uint8Array(12),
      ]),
    });
    const result = await h.run(memorySource('extra.parquet', file), pipeline, { parquetDecoder: 'arrow-rs' });
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    expect(await h.rows(pipeline)).toEqual([
      { id: '1', note: null },
      { id: '2', note: null },
    ]);
    expect((await h.ledger(result.ingestionId))?.details).toMatchObject({
      drift: { missing: ['note'], unexpected: ['span'], action: 'ignored' },
      // The flat column read was decoded by arrow-rs, the footer it was given naming the other one empty.
      parquet: { decodedBy: { arrowRs: 1, hyparquet: 0 } },
    });
  });

  it('reads the footer by range and the row groups from the one pass; spools when it cannot (and says which)', async () => {
    const file = parquetOfIds(5000, { rowGroupSize: 1000 });
    const sha256 = createHash('sha256').update(file).digest('hex');
    const reads: [number, number][] = [];
    const ranged = await h.freshPipeline({ columns: [{ name: 'id', type: 'bigint' }] });
    const viaRange = await h.run(
      memorySource('a.parquet', file, { ranged: { reads }, chunkSize: 4096 }),
      ranged,
    );
    expect(viaRange).toMatchObject({
      status: 'loaded',
      rowsLoaded: 5000,
      contentSha256: sha256,
      bytes: file.length,
    });
    // Only the footer is read by range: every row group came from the sequential pass.
    expect(reads.length).toBeGreaterThan(0);
    for (const [start] of reads) expect(start).toBeGreaterThan(file.length - 64 * 1024 - 1);
    expect((await h.ledger(viaRange.ingestionId))?.details).toMatchObject({
      parquet: { read: 'ranged', rowGroups: 5 },
    });

    const spooled = await h.freshPipeline({ columns: [{ name: 'id', type: 'bigint' }] });
    const gz = gzipSync(file);
    const viaSpool = await h.run(memorySource('a.parquet.gz', gz, { ranged: true }), spooled);
    expect(viaSpool).toMatchObject({
      status: 'loaded',
      rowsLoaded: 5000,
      contentSha256: createHash('sha256').update(gz).digest('hex'),
    });
    expect((await h.ledger(viaSpool.ingestionId))?.details).toMatchObject({
      compression: 'gzip',
      parquet: { read: 'spooled' },
    });

    // A local file offers ranges; the same bytes again are a duplicate (identity is the content hash).
    const path = join(dir, `ids-${format}.parquet`);
    await writeFile(path, file);
    expect((await h.run(await fileSource(path), ranged)).status).toBe('loaded');
    expect((await h.run(await fileSource(path), ranged)).status).toBe('duplicate');
  });

  it('rejects truncated and corrupt Parquet files clearly and loads nothing (B15)', async () => {
    const pipeline = await h.freshPipeline({
      columns: [{ name: 'id', type: 'bigint' }],
      rejects: { maxRatio: 1 },
    });
    const file = parquetOfIds(3000, { rowGroupSize: 1000, codec: 'UNCOMPRESSED' });
    for (const ranged of [true, false]) {
      const cut = await h.run(
        memorySource('cut.parquet', file.subarray(0, file.length - 200), { ranged }),
        pipeline,
      );
      expect(cut).toMatchObject({ status: 'rejected', error: { code: 'corrupt_parquet' } });
      expect(cut.error?.message).toMatch(/truncated or damaged: its footer/);
    }
    const damaged = Buffer.from(file);
    damaged.fill(0xff, 4, 40);
    const broken = await h.run(memorySource('broken.parquet', damaged, { ranged: true }), pipeline);
    expect(broken).toMatchObject({ status: 'rejected', error: { code: 'corrupt_parquet' } });
    expect(broken.error?.message).toMatch(/row group 1 cannot be decoded/);
    // A footer that places a row group past the end of the file: a spooled (compressed) file read on, empty,
    // for as long as the range said, and a sequential read failed as an object shorter than its size.
    const placedOutside = await withFooter(file, (metadata) => {
      const meta = metadata.row_groups[0]?.columns[0]?.meta_data;
      if (meta !== undefined) meta.total_compressed_size = 2n ** 50n;
    });
    for (const [name, bytes] of [
      ['outside.parquet', placedOutside],
      ['outside.parquet.gz', gzipSync(placedOutside)],
    ] as const) {
      for (const ranged of [true, false]) {
        const outside = await h.run(memorySource(name, bytes, { ranged }), pipeline);
        expect(outside, `${name}, ranged: ${ranged}`).toMatchObject({
          status: 'rejected',
          error: { code: 'corrupt_parquet' },
        });
        expect(outside.error?.message).toMatch(
          /its footer places row group 1 at bytes \d+ to \d+ of a file of \d+/,
        );
      }
    }
    // A column chunk a damaged footer left without its codec (or path, which failed as a TypeError): refused at
    // the footer, saying which chunk.
    const codecless = await withFooter(file, (metadata) => {
      const meta = metadata.row_groups[0]?.columns[0]?.meta_data as { codec?: string } | undefined;
      if (meta !== undefined) meta.codec = 'NOT_A_CODEC';
    });
    const noPath = await h.run(memorySource('codecless.parquet', codecless, { ranged: true }), pipeline);
    expect(noPath).toMatchObject({ status: 'rejected', error: { code: 'corrupt_parquet' } });
    expect(noPath.error?.message).toMatch(/column chunk 1 of row group 1 has no path, type or codec/);
    const text = await h.run(memorySource('fake.parquet', 'id\n1\n'), pipeline);
    expect(text).toMatchObject({ status: 'rejected', error: { code: 'not_tabular' } });
    expect(await h.rows(pipeline)).toEqual([]);
  });
});

describe('memory', () => {
  beforeAll(() => {
    h.state.copyFormat = 'auto';
  });

  it('stays flat while loading a Parquet file of many row groups (one row group in memory at a time)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const retained = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const rows = 200_000;
    const path = join(dir, 'large.parquet');
    // 40 row groups of 5,000 rows; decoded whole (one row group), it holds about 65 MB more than this.
    await writeLargeParquet(path, rows, 5000);
    const pipeline = await h.freshPipeline({
      columns: [
        { name: 'id', type: 'bigint', nullable: false },
        { name: 'name', type: 'text' },
      ],
    });
    // Loads the Parquet decoder (and its WebAssembly memory) before measuring.
    expect(
      (
        await h.run(
          memorySource(
            'warm.parquet',
            parquetFile({
              id: flat('id', { type: 'INT64' }, [1n]),
              name: flat('name', { type: 'BYTE_ARRAY', converted_type: 'UTF8' }, ['a']),
            }),
          ),
          pipeline,
        )
      ).status,
    ).toBe('loaded');
    // Writing the file above leaves 10-30 MB of ArrayBuffers that gc() collects but whose memory is
    // released a little later: let it go before the load, or the samples measure the test's own garbage.
    let settled = retained();
    for (let round = 0; round < 50; round++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const now = retained();
      if (now > settled - 256 * 1024) break;
      settled = now;
    }
    // The highest of the samples taken during the load.
    let peak = Number.NEGATIVE_INFINITY;
    let calls = 0;
    const result = await h.run(await fileSource(path), pipeline, {
      onProgress: () => {
        if (calls++ % 8 === 0) peak = Math.max(peak, retained());
      },
    });
    expect(result).toMatchObject({ status: 'loaded', rowsLoaded: rows });
    expect(calls).toBeGreaterThan(16);
    // Measured against what is retained once the load is over: about 5 MB, against about 65 MB more when
    // the same rows are one row group.
    const growth = peak - retained();
    expect(growth).toBeLessThan(32 * 1024 * 1024);
  });
});

/** In its own function, so that none of the generated arrays is still referenced when memory is measured. */
async function writeLargeParquet(path: string, rows: number, rowGroupSize: number): Promise<void> {
  const ids = new BigInt64Array(rows);
  const names: string[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    ids[i] = BigInt(i);
    names[i] = `customer number ${i} ${'x'.repeat(200)}`;
  }
  const file = parquetFile(
    {
      id: flat('id', { type: 'INT64' }, ids as unknown as unknown[], false),
      name: flat('name', { type: 'BYTE_ARRAY', converted_type: 'UTF8' }, names),
    },
    { rowGroupSize },
  );
  await writeFile(path, file);
}

describe('from S3', () => {
  let gateway: Gateway;
  let store: S3ObjectStore;
  const credentials = { accessKeyId: 'pq-test', secretAccessKey: 'pq-test-secret' };

  beforeAll(async () => {
    h.state.copyFormat = 'auto';
    await chmod(dir, 0o755);
    gateway = await startGateway({ dataDir: join(dir, 's3'), credentials, buckets: ['inbox'] });
    store = new S3ObjectStore({
      endpoint: gateway.endpoint,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
    });
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('reads the footer with ranged GETs of the same object version and loads the row groups', async () => {
    const file = parquetOfIds(3000, { rowGroupSize: 1000 });
    const info = await store.put('inbox', 'exports/ids.parquet', file);
    const pipeline = await h.freshPipeline({ columns: [{ name: 'id', type: 'bigint' }] });
    const result = await h.run(objectSource(store, 'inbox', 'exports/ids.parquet', info), pipeline);
    expect(result).toMatchObject({
      status: 'loaded',
      rowsLoaded: 3000,
      contentSha256: createHash('sha256').update(file).digest('hex'),
    });
    expect((await h.ledger(result.ingestionId))?.details).toMatchObject({
      parquet: { read: 'ranged', rowGroups: 3 },
    });
    // Overwritten since it was announced: refused rather than loaded under the old identity.
    await store.put('inbox', 'exports/ids.parquet', parquetFile({ id: flat('id', { type: 'INT64' }, [1n]) }));
    const stale = await h.run(objectSource(store, 'inbox', 'exports/ids.parquet', info), pipeline, {
      force: true,
    });
    expect(stale).toMatchObject({ status: 'failed', error: { code: 'source_changed' } });
  });
});
