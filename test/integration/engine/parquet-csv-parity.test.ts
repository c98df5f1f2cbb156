import { describe, expect, it } from 'vitest';
import { dateText } from '../../../src/formats/civil-date.js';
import { decimalText, epochText } from '../../../src/formats/parquet/values.js';
import { COPY_FORMATS, engineHarness } from '../../harness/engine.js';
import { flat, parquetFile } from '../../harness/parquet.js';
import { seededRandom } from '../../harness/seeded-random.js';
import { memorySource } from '../../harness/sources.js';

const h = engineHarness('pqcsv');

const COLUMNS = [
  { name: 'id', type: 'bigint', nullable: false },
  { name: 'small', type: 'smallint' },
  { name: 'i32', type: 'integer' },
  { name: 'big', type: 'bigint' },
  { name: 'f64', type: 'double precision' },
  { name: 'ok', type: 'boolean' },
  { name: 'name', type: 'text' },
  { name: 'amount', type: 'numeric(12,2)' },
  { name: 'ratio', type: 'numeric' },
  { name: 'day', type: 'date' },
  { name: 'at_us', type: 'timestamptz' },
  { name: 'at_ms', type: 'timestamp' },
  { name: 'at_ns', type: 'timestamp' },
];

const ROWS = 3_000;
const SMALLINT_MAX = 32_767;

function csvField(text: string | null): string {
  if (text === null) return '';
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The same rows as Parquet (typed values) and as CSV (their text); some values out of range or NULL. */
function sameRows(): { parquet: Buffer; csv: string } {
  const next = seededRandom(2016);
  const maybe = <T>(value: T): T | null => (next() < 0.1 ? null : value);
  const columns: Record<string, unknown[]> = Object.fromEntries(COLUMNS.map((c) => [c.name, []]));
  const text: string[][] = [];
  const alphabet = ['a', 'Z', ' ', '"', ',', '\\', '\t', '\n', 'ü', '€', '😀'];
  const edgeInts = [0, -1, SMALLINT_MAX, SMALLINT_MAX + 1, -32_768, -32_769, 2_147_483_647, -2_147_483_648];
  const edgeBig = [0n, -1n, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n];
  const edgeDays = [0, -1, -719_162, 2_932_896, 24_855, 24_856];
  for (let i = 0; i < ROWS; i++) {
    const int =
      i < edgeInts.length ? (edgeInts[i] as number) : Math.floor((next() - 0.5) * 2 ** (1 + next() * 31));
    const big =
      i < edgeBig.length
        ? (edgeBig[i] as bigint)
        : BigInt(Math.floor((next() - 0.5) * 2 ** (1 + next() * 62)));
    const double = (next() - 0.5) * 10 ** Math.floor((next() - 0.5) * 40);
    let name = 'x';
    for (let k = Math.floor(next() * 10); k > 0; k--) name += alphabet[Math.floor(next() * alphabet.length)];
    const cents = BigInt(Math.floor((next() - 0.5) * 2e11));
    const ratio = BigInt(Math.floor((next() - 0.5) * 2 ** (1 + next() * 50)));
    const day = i < edgeDays.length ? (edgeDays[i] as number) : Math.floor((next() - 0.3) * 100_000);
    // Years from about -1800 to 7600: some before 0001, which both paths reject alike.
    const micros = BigInt(Math.floor((next() - 0.4) * 3e14)) * 1000n + BigInt(Math.floor(next() * 1000));
    const millis = BigInt(Math.floor((next() - 0.4) * 4e12));
    // Whole milliseconds half the time; else nanoseconds, which the coercer rounds as PostgreSQL does.
    const nanos =
      BigInt(Math.floor((next() - 0.5) * 1.6e13)) * 1_000_000n +
      (i % 2 === 0 ? 0n : BigInt(Math.floor(next() * 1_000_000)));
    const row = {
      id: BigInt(i),
      small: maybe(int),
      i32: maybe(int),
      big: maybe(big),
      f64: maybe(i === 1 ? -0 : double),
      ok: maybe(next() < 0.5),
      name,
      amount: maybe(cents),
      ratio: maybe(ratio),
      day: maybe(day),
      at_us: maybe(micros),
      at_ms: maybe(millis),
      at_ns: maybe(nanos),
    };
    for (const [key, value] of Object.entries(row)) (columns[key] as unknown[]).push(value);
    const t = (value: unknown, render: (v: never) => string) =>
      value === null ? null : render(value as never);
    text.push(
      [
        String(i),
        t(row.small, String),
        t(row.i32, String),
        t(row.big, String),
        t(row.f64, String),
        t(row.ok, String),
        row.name,
        t(row.amount, (v: bigint) => decimalText(v, 2)),
        t(row.ratio, (v: bigint) => decimalText(v, 4)),
        t(row.day, dateText),
        // The CSV holds the text the Parquet converter makes, so that the rejects show the same value.
        t(row.at_us, (v: bigint) => `${epochText(v, 'MICROS')}Z`),
        t(row.at_ms, (v: bigint) => epochText(v, 'MILLIS')),
        t(row.at_ns, (v: bigint) => epochText(v, 'NANOS')),
      ].map(csvField),
    );
  }
  const decimal = (precision: number, scale: number) =>
    ({
      type: 'INT64',
      converted_type: 'DECIMAL',
      precision,
      scale,
      logical_type: { type: 'DECIMAL', precision, scale },
    }) as const;
  const timestamp = (unit: 'MILLIS' | 'MICROS' | 'NANOS', isAdjustedToUTC: boolean) =>
    ({ type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC, unit } }) as const;
  const parquet = parquetFile(
    {
      id: flat('id', { type: 'INT64' }, columns.id as unknown[], false),
      small: flat('small', { type: 'INT32' }, columns.small as unknown[]),
      i32: flat('i32', { type: 'INT32' }, columns.i32 as unknown[]),
      big: flat('big', { type: 'INT64' }, columns.big as unknown[]),
      f64: flat('f64', { type: 'DOUBLE' }, columns.f64 as unknown[]),
      ok: flat('ok', { type: 'BOOLEAN' }, columns.ok as unknown[]),
      name: flat(
        'name',
        { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
        columns.name as unknown[],
      ),
      amount: flat('amount', decimal(12, 2), columns.amount as unknown[]),
      ratio: flat('ratio', decimal(18, 4), columns.ratio as unknown[]),
      day: flat(
        'day',
        { type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } },
        columns.day as unknown[],
      ),
      at_us: flat('at_us', timestamp('MICROS', true), columns.at_us as unknown[]),
      at_ms: flat('at_ms', timestamp('MILLIS', false), columns.at_ms as unknown[]),
      at_ns: flat('at_ns', timestamp('NANOS', false), columns.at_ns as unknown[]),
    },
    { rowGroupSize: 1_000 },
  );
  const csv = `${[COLUMNS.map((c) => c.name), ...text].map((r) => r.join(',')).join('\n')}\n`;
  return { parquet, csv };
}

async function tableText(table: string): Promise<Record<string, unknown>[]> {
  const columns = COLUMNS.map((c) =>
    c.type === 'timestamptz' ? `(${c.name} AT TIME ZONE 'UTC')::text AS ${c.name}` : `${c.name}::text`,
  );
  const { rows } = await h.state.pool.query(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY id`);
  return rows;
}

describe.each(COPY_FORMATS)('%s', (_label, format) => {
  it('loads the same rows as Parquet and as CSV into equal tables, with the same rejects', async () => {
    h.state.copyFormat = format;
    const { parquet, csv } = sameRows();
    const fromParquet = await h.freshPipeline({ columns: COLUMNS, rejects: { maxRatio: 1 } });
    const fromCsv = await h.freshPipeline({ columns: COLUMNS, rejects: { maxRatio: 1 } });
    // arrow-rs asked for: `auto` leaves a file this small to hyparquet, which the decoders' tests compare with it.
    const p = await h.run(memorySource('same.parquet', parquet, { ranged: true }), fromParquet, {
      parquetDecoder: 'arrow-rs',
    });
    const c = await h.run(memorySource('same.csv', csv), fromCsv);
    expect(c).toMatchObject({ status: 'loaded', rowsRejected: expect.any(Number) });
    expect(p).toMatchObject({ status: 'loaded', rowsLoaded: c.rowsLoaded, rowsRejected: c.rowsRejected });
    // Smallints out of range (and more) are rejected, the rest loaded.
    expect(c.rowsRejected).toBeGreaterThan(ROWS / 4);
    expect(c.rowsLoaded).toBeGreaterThan(ROWS / 4);
    const reject = (r: (typeof p.rejects)[number]) => [r.record, r.column, r.value, r.reason];
    expect(p.rejects.map(reject)).toEqual(c.rejects.map(reject));
    const parquetRows = await tableText(`public.${fromParquet.table.name}`);
    const csvRows = await tableText(`public.${fromCsv.table.name}`);
    expect(parquetRows.length).toBe(c.rowsLoaded);
    for (let i = 0; i < csvRows.length; i++) expect(parquetRows[i], `row ${i}`).toEqual(csvRows[i]);
    // Flat columns: every row group was decoded by arrow-rs (WebAssembly), none by hyparquet.
    expect((await h.ledger(p.ingestionId))?.details).toMatchObject({
      parquet: { rowGroups: 3, decodedBy: { arrowRs: 3, hyparquet: 0 } },
    });
  });
});
