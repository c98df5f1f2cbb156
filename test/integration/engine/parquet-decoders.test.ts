import { describe, expect, it } from 'vitest';
import { COPY_FORMATS, engineHarness } from '../../harness/engine.js';
import { flat, parquetFile, textList } from '../../harness/parquet.js';
import { expectEqualLoads, loadByBothDecoders } from '../../harness/parquet-decoders.js';
import { seededRandom } from '../../harness/seeded-random.js';

const h = engineHarness('pqdec');

const int = (bitWidth: number, isSigned: boolean) =>
  ({
    type: bitWidth === 64 ? 'INT64' : 'INT32',
    logical_type: { type: 'INTEGER', bitWidth, isSigned },
  }) as const;
const decimal = (type: 'INT32' | 'INT64', precision: number, scale: number) =>
  ({
    type,
    converted_type: 'DECIMAL',
    precision,
    scale,
    logical_type: { type: 'DECIMAL', precision, scale },
  }) as const;
const timestamp = (unit: 'MILLIS' | 'MICROS' | 'NANOS') =>
  ({ type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit } }) as const;

const FLAT_COLUMNS = [
  { name: 'id', type: 'bigint', nullable: false },
  { name: 'i8', type: 'smallint' },
  { name: 'i16', type: 'smallint' },
  { name: 'u8', type: 'smallint' },
  { name: 'u16', type: 'integer' },
  { name: 'u32', type: 'bigint' },
  { name: 'i32', type: 'integer' },
  { name: 'i64', type: 'numeric' },
  { name: 'f32', type: 'real' },
  { name: 'f64', type: 'double precision' },
  { name: 'ok', type: 'boolean' },
  { name: 'name', type: 'text' },
  { name: 'd32', type: 'numeric(9,3)' },
  { name: 'd64', type: 'numeric(18,6)' },
  { name: 'day', type: 'date' },
  { name: 'at_ms', type: 'timestamptz' },
  { name: 'at_us', type: 'timestamptz' },
  { name: 'at_ns', type: 'timestamptz' },
];

const ROWS = 2_500;

/** Flat columns of every kind arrow-rs decodes here, NULLs and edges included, and one LIST column. */
function file(): Buffer {
  const next = seededRandom(1616);
  const maybe = <T>(value: T): T | null => (next() < 0.15 ? null : value);
  const bits = (n: number) => Math.floor(next() * 2 ** n);
  const signed = (n: number) => bits(n) - 2 ** (n - 1);
  const big = () => BigInt(signed(32)) * 4_294_967_296n + BigInt(bits(32));
  const rows = Array.from({ length: ROWS }, (_, i) => ({
    id: BigInt(i),
    i8: maybe(signed(8)),
    i16: maybe(signed(16)),
    u8: maybe(bits(8)),
    u16: maybe(bits(16)),
    u32: maybe(i === 0 ? 4_294_967_295 : bits(32)),
    i32: maybe(i === 0 ? -2_147_483_648 : signed(32)),
    // Beyond 2^53 too: the values read as bigints.
    i64: maybe(i === 0 ? -(2n ** 63n) : i === 1 ? 2n ** 63n - 1n : big()),
    f32: maybe(i === 0 ? Number.NaN : Math.fround((next() - 0.5) * 10 ** signed(6))),
    f64: maybe(i === 0 ? Number.POSITIVE_INFINITY : (next() - 0.5) * 10 ** signed(8)),
    ok: maybe(next() < 0.5),
    name: maybe(`${['Ada', 'ü€', 'tab\there', '😀', ''][i % 5]} ${i}`),
    d32: maybe(BigInt(signed(30))),
    d64: maybe(BigInt(signed(32)) * 1000n + BigInt(bits(10))),
    day: maybe(signed(20)),
    at_ms: maybe(BigInt(signed(31)) * 1000n + BigInt(bits(10))),
    at_us: maybe(BigInt(signed(31)) * 1_000_000n + BigInt(bits(20))),
    at_ns: maybe(BigInt(signed(31)) * 1_000_000_000n + BigInt(bits(30))),
    tags: i % 3 === 0 ? null : [`t${i}`],
  }));
  const column = <K extends keyof (typeof rows)[number]>(key: K) => rows.map((row) => row[key]);
  return parquetFile(
    {
      id: flat('id', { type: 'INT64' }, column('id'), false),
      i8: flat('i8', int(8, true), column('i8')),
      i16: flat('i16', int(16, true), column('i16')),
      u8: flat('u8', int(8, false), column('u8')),
      u16: flat('u16', int(16, false), column('u16')),
      u32: flat('u32', int(32, false), column('u32')),
      i32: flat('i32', { type: 'INT32' }, column('i32')),
      i64: flat('i64', { type: 'INT64' }, column('i64')),
      f32: flat('f32', { type: 'FLOAT' }, column('f32')),
      f64: flat('f64', { type: 'DOUBLE' }, column('f64')),
      ok: flat('ok', { type: 'BOOLEAN' }, column('ok')),
      name: flat(
        'name',
        { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
        column('name'),
      ),
      d32: flat('d32', decimal('INT32', 9, 3), column('d32')),
      d64: flat('d64', decimal('INT64', 18, 6), column('d64')),
      day: flat(
        'day',
        { type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } },
        column('day'),
      ),
      at_ms: flat('at_ms', timestamp('MILLIS'), column('at_ms')),
      at_us: flat('at_us', timestamp('MICROS'), column('at_us')),
      at_ns: flat('at_ns', timestamp('NANOS'), column('at_ns')),
      tags: textList('tags', column('tags')),
    },
    { rowGroupSize: 1_000 },
  );
}

async function tableText(table: string): Promise<Record<string, unknown>[]> {
  const columns = FLAT_COLUMNS.map((c) =>
    c.type === 'timestamptz' ? `(${c.name} AT TIME ZONE 'UTC')::text AS ${c.name}` : `${c.name}::text`,
  );
  const { rows } = await h.state.pool.query(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY id`);
  return rows;
}

describe.each(COPY_FORMATS)('%s', (_label, format) => {
  it('arrow-rs and hyparquet load the same flat columns into equal tables', async () => {
    h.state.copyFormat = format;
    const bytes = file();
    const loads = await loadByBothDecoders(h, FLAT_COLUMNS, 'both.parquet', bytes);
    expect((await h.ledger(loads.byHyparquet.ingestionId))?.details).toMatchObject({
      parquet: { decodedBy: { arrowRs: 0, hyparquet: 3 } },
    });
    expect((await h.ledger(loads.byArrow.ingestionId))?.details).toMatchObject({
      parquet: { decodedBy: { arrowRs: 3, hyparquet: 0 } },
    });
    expect(loads.byHyparquet.rowsLoaded).toBeGreaterThan(ROWS / 2);
    await expectEqualLoads(loads, tableText);
  });
});
