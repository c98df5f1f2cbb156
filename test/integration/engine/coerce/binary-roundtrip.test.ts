import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBinaryCoercer } from '../../../../src/engine/coerce/binary.js';
import { makeCoercer } from '../../../../src/engine/coerce/index.js';
import { type Coercer, CopyTextBuffer } from '../../../../src/engine/copy-text.js';
import type { ColumnContract, ColumnType } from '../../../../src/model/contract.js';
import { createTestDatabase, type TestDatabase } from '../../../harness/db.js';

/**
 * Loads the same values once through the text coercer (COPY text) and once through the binary one
 * (COPY binary) and compares what PostgreSQL stored: the text path is the reference, so any
 * mistake in a binary layout shows up as a differing row or a refused COPY.
 */

interface Case {
  readonly type: ColumnType;
  readonly format?: string;
  readonly values: readonly string[];
}

/** `numerator / 2^60` written out exactly: see the float4 double-rounding cases in the unit test. */
function exactSixtieths(numerator: bigint): string {
  const digits = (numerator * 5n ** 60n).toString();
  return `${digits.slice(0, -60)}.${digits.slice(-60)}`;
}
const ONE = 2n ** 60n;

const CASES: readonly Case[] = [
  {
    type: { kind: 'smallint', sql: 'smallint' },
    values: ['0', '-0', '+7', ' 0042 ', '32767', '-32768', '-1', '256'],
  },
  {
    type: { kind: 'integer', sql: 'integer' },
    values: ['2147483647', '-2147483648', '65536', '-65537', '000123'],
  },
  {
    type: { kind: 'bigint', sql: 'bigint' },
    values: [
      '9223372036854775807',
      '-9223372036854775808',
      '4294967296',
      '-4294967296',
      '-4294967297',
      '9007199254740993',
      '-9007199254740993',
      '999999999999999',
      '1000000000000000',
      '-1',
      '0',
    ],
  },
  { type: { kind: 'integer', sql: 'integer' }, format: '1.234,56', values: ['1.234.567', '-12', '0'] },
  {
    type: { kind: 'numeric', sql: 'numeric' },
    values: [
      '0',
      '-0',
      '0.000',
      '-0.5',
      '-1234.5678',
      '12.50',
      '10000',
      '9999',
      '99999999',
      '100000000.00000001',
      '0.0001',
      '0.00012345',
      '1e-3',
      '1.5e2',
      '-1.5E-10',
      '+.5',
      '5.',
      '007.10',
      '1e1000',
      '-9.99e999',
      '1e-1000',
      `0.${'0'.repeat(16_382)}1`,
      `${'9'.repeat(1000)}.${'1'.repeat(1000)}`,
      '123456789012345678901234567890.123456789',
      '0.1e1',
      '12345e-2',
      'NaN',
      'Infinity',
      '-inf',
    ],
  },
  {
    type: { kind: 'numeric', precision: 12, scale: 2, sql: 'numeric(12,2)' },
    values: ['-12.50', '12345.6', '-0.5', '9999999999.99', '0000000000001.25', '-0.001', '0.005', '1e3', '0'],
  },
  {
    type: { kind: 'numeric', precision: 4, scale: 2, sql: 'numeric(4,2)' },
    values: ['1.005', '1.004', '-1.005', '99.994', '0.9999e2', '5e-3', '4.9e-3', '-4.9e-3', '1234e-2'],
  },
  {
    type: { kind: 'numeric', precision: 20, scale: 10, sql: 'numeric(20,10)' },
    values: ['-1234567890.12345678905', '0.00000000005', '1e-10', '-3'],
  },
  {
    type: { kind: 'numeric', precision: 5, scale: 0, sql: 'numeric(5,0)' },
    values: ['12345', '-99999.4', '0.5', '-0.5', '1.5e4'],
  },
  {
    type: { kind: 'numeric', precision: 3, scale: 3, sql: 'numeric(3,3)' },
    values: ['0.9994', '-0.0005', '.1'],
  },
  { type: { kind: 'numeric', sql: 'numeric' }, format: '1 234,56', values: ['-1 234,5', '0,001', '12'] },
  {
    type: { kind: 'real', sql: 'real' },
    values: [
      '0',
      '-0',
      '1.5',
      '0.1',
      '-3.4028234e38',
      '3.4028235e38',
      '1.17549435e-38',
      '1e-45',
      '1.4e-45',
      '16777217',
      exactSixtieths(ONE + 2n ** 36n + 1n),
      exactSixtieths(ONE + 3n * 2n ** 36n - 1n),
      `-${exactSixtieths(ONE + 3n * 2n ** 36n)}`,
      'NaN',
      'Infinity',
      '-inf',
    ],
  },
  {
    type: { kind: 'double precision', sql: 'double precision' },
    values: [
      '0',
      '-0',
      '0.1',
      '-1234.5678',
      '1.7976931348623157e308',
      '-2.2250738585072014e-308',
      '5e-324',
      '4.9406564584124654e-324',
      '9007199254740993',
      '1e22',
      '123456789012345678901234567890',
      'nan',
      '-Infinity',
    ],
  },
  {
    type: { kind: 'boolean', sql: 'boolean' },
    values: ['true', 'FALSE', 't', 'f', 'yes', 'No', '1', '0'],
  },
  {
    type: { kind: 'text', sql: 'text' },
    values: [
      'plain',
      ' spaced ',
      'tab\there',
      'new\nline',
      'cr\rlf\r\n',
      'back\\slash\\N',
      '\\N',
      'é€😀 multibyte',
      '"quoted", comma',
      'x'.repeat(10_000),
    ],
  },
  {
    type: { kind: 'varchar', length: 5, sql: 'varchar(5)' },
    values: ['abcde', 'é€😀ab', 'a\tb\\', '  '],
  },
  { type: { kind: 'varchar', sql: 'varchar' }, values: ['unbounded\t\\'] },
  {
    type: { kind: 'date', sql: 'date' },
    values: [
      '2000-01-01',
      '1999-12-31',
      '2024-02-29',
      '2000-02-29',
      '1900-02-28',
      '1970-01-01',
      '0001-01-01',
      '9999-12-31',
      '1582-10-10',
    ],
  },
  {
    type: { kind: 'date', sql: 'date' },
    format: 'D.M.YYYY',
    values: ['29.2.2024', '1.1.0001', '31.12.9999'],
  },
  {
    type: { kind: 'timestamp', sql: 'timestamp' },
    values: [
      '2000-01-01 00:00:00',
      '1999-12-31T23:59:59.999999',
      '2024-02-29T13:45:07.5',
      '2024-01-31T13:45:00.1234565',
      '2024-01-31T13:45:59.9999995',
      '2023-12-31T23:59:59.99999951',
      '0001-01-01T00:00:00',
      '9999-12-31T23:59:59.999999',
      '2285-01-01T00:00:00.000001',
      '1714-12-31T23:59:59.999999',
      '2024-01-31',
    ],
  },
  {
    type: { kind: 'timestamp', sql: 'timestamp' },
    format: 'epoch_ms',
    values: ['0', '-1', '1706700000123.456', '-62135596800000', '253402300799999'],
  },
  {
    type: { kind: 'timestamptz', sql: 'timestamptz' },
    values: [
      '2024-01-31T13:45:00Z',
      '2024-01-31 13:45:00',
      '2024-01-31T13:45:00+02',
      '2024-01-31T13:45:00+0530',
      '2024-01-31T13:45:00-03:30',
      '2024-01-31T13:45:00.123456789+01:00',
      '2024-02-29T23:59:59.9999999Z',
      '0001-01-01T00:00:00+15:59',
      '0001-01-01T00:00:00-15:59',
      '9999-12-31T23:59:59.999999-15:59',
      '9999-12-31T23:59:59.999999+15:59',
      '1900-06-30T12:00:00.000001Z',
    ],
  },
  {
    type: { kind: 'timestamptz', sql: 'timestamptz' },
    format: 'epoch',
    values: ['0', '-0.5', '1706700000.123456', '-62135596800', '253402300799.9999994'],
  },
  {
    type: { kind: 'timestamptz', sql: 'timestamptz' },
    format: 'DD/MM/YYYY HH:mm:ss.SSS Z',
    values: ['31/01/2024 13:45:07.125 +02:00', '01/01/2000 00:00:00.000 Z'],
  },
  {
    type: { kind: 'uuid', sql: 'uuid' },
    values: [
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
      '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}',
      'a0eebc999c0b4ef8bb6d6bb9bd380a11',
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
    ],
  },
  {
    type: { kind: 'jsonb', sql: 'jsonb' },
    values: [
      '{"b": 1, "a": [1, 2.50, {"c": null}]}',
      ' "é€😀\\u00e9\\ud83d\\ude00" ',
      '{"tab": "a\\tb", "backslash": "\\\\", "nested": {"x": {"y": [[], {}]}}}',
      '1e1000',
      '-0.0',
      'true',
      'null',
      '[1, "two", false]',
      '{"a": 1, "a": 2}',
    ],
  },
];

let db: TestDatabase;
let client: PoolClient;

beforeAll(async () => {
  db = await createTestDatabase();
  client = await db.pool.connect();
  // Offset-less timestamptz values are UTC in binary; the text load must read them the same way.
  await client.query(`SET TimeZone = 'UTC'`);
});

afterAll(async () => {
  client?.release();
  await db?.drop();
});

describe('binary COPY stores what text COPY stores', () => {
  it.each(
    CASES.map((c, n) => [`${c.type.sql}${c.format === undefined ? '' : ` (${c.format})`}`, n, c] as const),
  )('%s', async (_label, n, { type, format, values }) => {
    const col: ColumnContract = {
      name: 'v',
      source: 'v',
      nullable: true,
      type,
      ...(format === undefined ? {} : { format }),
    };
    const binary = makeBinaryCoercer(col, { timezone: 'UTC' });
    if (binary === undefined) throw new Error(`no binary coercer for ${type.sql}`);
    const textTable = `text_${n}`;
    const binaryTable = `binary_${n}`;
    for (const table of [textTable, binaryTable]) {
      await client.query(`CREATE TABLE ${table} (ord integer PRIMARY KEY, v ${type.sql})`);
    }
    await copy(`COPY ${textTable} (ord, v) FROM STDIN`, textRows(makeCoercer(col), values));
    await copy(`COPY ${binaryTable} (ord, v) FROM STDIN (FORMAT binary)`, binaryRows(binary, values));
    const stored = async (table: string) =>
      (await client.query<{ v: string | null }>(`SELECT v::text AS v FROM ${table} ORDER BY ord`)).rows.map(
        (row) => row.v,
      );
    const expected = await stored(textTable);
    expect(expected).toHaveLength(values.length + 1);
    expect(await stored(binaryTable)).toEqual(expected);
  });
});

async function copy(sql: string, data: Buffer): Promise<void> {
  await pipeline(Readable.from([data]), client.query(copyFrom(sql)));
}

/** Coerces one value that must be valid into a fresh buffer. */
function payload(coercer: Coercer, value: string): Buffer {
  const src = Buffer.from(value, 'utf8');
  const out = new CopyTextBuffer(16);
  const problem = coercer(src, 0, src.length, out);
  if (problem !== undefined) throw new Error(`${JSON.stringify(value)} was rejected: ${problem}`);
  return Buffer.from(out.buf.subarray(0, out.pos));
}

/** `ord\tvalue\n` per value, then a NULL row. */
function textRows(coercer: Coercer, values: readonly string[]): Buffer {
  const rows = values.map((value, ord) =>
    Buffer.concat([Buffer.from(`${ord}\t`), payload(coercer, value), Buffer.from('\n')]),
  );
  rows.push(Buffer.from(`${values.length}\t\\N\n`));
  return Buffer.concat(rows);
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Header, one (ord, value) tuple per value, a NULL row and the trailer. */
function binaryRows(coercer: Coercer, values: readonly string[]): Buffer {
  const parts: Buffer[] = [SIGNATURE, int32(0), int32(0)];
  const tuple = (ord: number, value: Buffer | undefined): void => {
    parts.push(int16(2), int32(4), int32(ord));
    if (value === undefined) {
      parts.push(int32(-1));
    } else {
      parts.push(int32(value.length), value);
    }
  };
  values.forEach((value, ord) => {
    tuple(ord, payload(coercer, value));
  });
  tuple(values.length, undefined);
  parts.push(int16(-1));
  return Buffer.concat(parts);
}

function int16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(value);
  return b;
}

function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
}
