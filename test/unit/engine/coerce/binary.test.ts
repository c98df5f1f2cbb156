import { describe, expect, it } from 'vitest';
import { makeBinaryCoercer } from '../../../../src/engine/coerce/binary.js';
import { CopyTextBuffer } from '../../../../src/engine/copy-text.js';
import type { ColumnContract, ColumnType } from '../../../../src/model/contract.js';
import { coerce, column } from './run-coercer.js';

type Spec = Omit<ColumnType, 'sql'> & { sql?: string };

/** Like run-coercer's `coerce`, with the value amid junk so out-of-bounds reads show, but binary. */
function binary(col: ColumnContract, value: string): { hex: string } | { error: string } {
  const bytes = Buffer.from(value, 'utf8');
  const src = Buffer.concat([Buffer.from('9,\\'), bytes, Buffer.from('5-"')]);
  const out = new CopyTextBuffer(4);
  out.byte(0xee);
  const coercer = makeBinaryCoercer(col, { timezone: 'UTC' });
  if (coercer === undefined) throw new Error('no binary coercer');
  const error = coercer(src, 3, 3 + bytes.length, out);
  if (error !== undefined) return { error };
  return { hex: out.buf.toString('hex', 1, out.pos) };
}

const hex = (spec: Spec, value: string, format?: string) => binary(column(spec, format), value);

const numeric = (precision?: number, scale?: number): Spec =>
  precision === undefined
    ? { kind: 'numeric' }
    : { kind: 'numeric', precision, scale: scale ?? 0, sql: `numeric(${precision},${scale ?? 0})` };

/** `numerator / 2^60` written out exactly in decimal. */
function exactSixtieths(numerator: bigint): string {
  const digits = (numerator * 5n ** 60n).toString();
  return `${digits.slice(0, -60)}.${digits.slice(-60)}`;
}

/*
 * Decimals whose nearest double lies exactly halfway between two float4 values: rounding through
 * the double (Math.fround(Number(x))) breaks the tie to even, strtof rounds the exact value.
 */
const ONE = 2n ** 60n;
const ABOVE_EVEN_TIE = exactSixtieths(ONE + 2n ** 36n + 1n); // 1 + 2^-24 + 2^-60
const BELOW_ODD_TIE = exactSixtieths(ONE + 3n * 2n ** 36n - 1n); // 1 + 3·2^-24 − 2^-60
const EXACT_TIE = exactSixtieths(ONE + 3n * 2n ** 36n); // 1 + 3·2^-24

describe('binary payloads', () => {
  it.each<[Spec, string, string]>([
    [{ kind: 'smallint' }, '-32768', '8000'],
    [{ kind: 'smallint' }, ' +00042 ', '002a'],
    [{ kind: 'integer' }, '2147483647', '7fffffff'],
    [{ kind: 'integer' }, '-1', 'ffffffff'],
    [{ kind: 'bigint' }, '-9223372036854775808', '8000000000000000'],
    [{ kind: 'bigint' }, '9223372036854775807', '7fffffffffffffff'],
    [{ kind: 'bigint' }, '-4294967296', 'ffffffff00000000'],
    [{ kind: 'bigint' }, '-0', '0000000000000000'],
    [{ kind: 'boolean' }, 'YES', '01'],
    [{ kind: 'boolean' }, '0', '00'],
    [{ kind: 'boolean' }, 'true', '01'],
    [{ kind: 'boolean' }, ' False ', '00'],
    [{ kind: 'boolean' }, 'no', '00'],
    [{ kind: 'boolean' }, 'T', '01'],
    [{ kind: 'real' }, '1.5', '3fc00000'],
    [{ kind: 'real' }, '-inf', 'ff800000'],
    [{ kind: 'real' }, ABOVE_EVEN_TIE, '3f800001'],
    [{ kind: 'real' }, BELOW_ODD_TIE, '3f800001'],
    [{ kind: 'real' }, EXACT_TIE, '3f800002'],
    [{ kind: 'real' }, `-${BELOW_ODD_TIE}`, 'bf800001'],
    [{ kind: 'real' }, '1.00000005960464477539062500', '3f800000'],
    [{ kind: 'double precision' }, '-0', '8000000000000000'],
    [{ kind: 'double precision' }, 'NaN', '7ff8000000000000'],
    [{ kind: 'double precision' }, '1e308', '7fe1ccf385ebc8a0'],
    [{ kind: 'text' }, 'a\tb\\c\né', '6109625c630ac3a9'],
    [{ kind: 'text' }, '  ', '2020'],
    [{ kind: 'varchar', length: 3 }, 'aé\r', '61c3a90d'],
    [{ kind: 'uuid' }, '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}', 'a0eebc999c0b4ef8bb6d6bb9bd380a11'],
    [{ kind: 'uuid' }, 'a0eebc999c0b4ef8bb6d6bb9bd380a11', 'a0eebc999c0b4ef8bb6d6bb9bd380a11'],
    [{ kind: 'jsonb' }, ' {"a":"\\t"} ', '017b2261223a225c74227d'],
    [{ kind: 'date' }, '2000-01-01', '00000000'],
    [{ kind: 'date' }, '1999-12-31', 'ffffffff'],
    [{ kind: 'date' }, '2024-02-29', '00002279'],
    [{ kind: 'date' }, '0001-01-01', 'fff4dbf9'],
    [{ kind: 'date' }, '9999-12-31', '002c95d3'],
    [{ kind: 'timestamp' }, '2000-01-01 00:00:00.000001', '0000000000000001'],
    [{ kind: 'timestamp' }, '1999-12-31T23:59:59', 'fffffffffff0bdc0'],
    [{ kind: 'timestamptz' }, '2000-01-01T02:00:00+02:00', '0000000000000000'],
    [{ kind: 'timestamptz' }, '2000-01-01T00:00:00-00:30', '000000006b49d200'],
    [{ kind: 'timestamptz' }, '2000-01-01 00:00:00', '0000000000000000'],
    [{ kind: 'timestamptz' }, '9999-12-31T23:59:59.999999Z', '0380e70b913b7fff'],
    [{ kind: 'timestamptz' }, '0001-01-01T00:00:00Z', 'ff1fe2ffc59c6000'],
  ])('%j %j → %s', (spec, value, expected) => {
    expect(hex(spec, value)).toEqual({ hex: expected });
  });

  it.each<[Spec, string, string]>([
    // ndigits, weight, sign, dscale, then base-10000 digits
    [numeric(12, 2), '-12.50', '0002 0000 4000 0002 000c 1388'],
    [numeric(12, 2), '-12.5', '0002 0000 4000 0002 000c 1388'],
    [numeric(4, 2), '-0.001', '0000 0000 0000 0002'],
    [numeric(4, 2), '1.005', '0002 0000 0000 0002 0001 0064'],
    [numeric(4, 2), '0.9999e2', '0002 0000 0000 0002 0063 26ac'],
    [numeric(10, 0), '12345678', '0002 0001 0000 0000 04d2 162e'],
    [numeric(), '0', '0000 0000 0000 0000'],
    [numeric(), '-0.00', '0000 0000 0000 0002'],
    [numeric(), '10000', '0001 0001 0000 0000 0001'],
    [numeric(), '0.0001', '0001 ffff 0000 0004 0001'],
    [numeric(), '1e-3', '0001 ffff 0000 0003 000a'],
    [numeric(), '1.5e2', '0001 0000 0000 0000 0096'],
    [numeric(), '+.5', '0001 ffff 0000 0001 1388'],
    [numeric(), '-1234.5678', '0002 0000 4000 0004 04d2 162e'],
    [numeric(), '120000000', '0002 0002 0000 0000 0001 07d0'],
    [numeric(), '1e1000', '0001 00fa 0000 0000 0001'],
    [numeric(), 'NaN', '0000 0000 c000 0000'],
    [numeric(), 'Infinity', '0000 0000 d000 0000'],
    [numeric(), '-inf', '0000 0000 f000 0000'],
  ])('%j %j → %s', (spec, value, expected) => {
    expect(hex(spec, value)).toEqual({ hex: expected.replaceAll(' ', '') });
  });

  it('reads configured formats before encoding', () => {
    expect(hex({ kind: 'numeric' }, '-1.234,5', '1.234,56')).toEqual({ hex: '000200004000000104d21388' });
    expect(hex({ kind: 'date' }, '31/12/1999', 'DD/MM/YYYY')).toEqual({ hex: 'ffffffff' });
    expect(hex({ kind: 'timestamptz' }, '946684800', 'epoch')).toEqual({ hex: '0000000000000000' });
    expect(hex({ kind: 'timestamp' }, '946684800001', 'epoch_ms')).toEqual({ hex: '00000000000003e8' });
  });

  it('falls back to text for timestamptz outside UTC only', () => {
    const tz = column({ kind: 'timestamptz' });
    for (const zone of ['UTC', 'utc', 'Etc/UTC', 'GMT', 'etc/gmt', 'Z']) {
      expect(makeBinaryCoercer(tz, { timezone: zone })).toBeTypeOf('function');
    }
    expect(makeBinaryCoercer(tz, { timezone: 'Europe/Berlin' })).toBeUndefined();
    expect(makeBinaryCoercer(column({ kind: 'timestamp' }), { timezone: 'Europe/Berlin' })).toBeTypeOf(
      'function',
    );
  });

  it('throws like makeCoercer on an unusable format', () => {
    expect(() => makeBinaryCoercer(column({ kind: 'text' }, 'YYYY'), { timezone: 'UTC' })).toThrow(
      'a format is not supported',
    );
  });
});

const INVALID: ReadonlyArray<[Spec, readonly string[], string?]> = [
  [{ kind: 'smallint' }, ['32768', '-32769', '1.0', '', ' ', '+', '12a', '1\u0000']],
  [{ kind: 'integer' }, ['2147483648', '-2147483649', '0x10', '1e3', '--1']],
  [{ kind: 'bigint' }, ['9223372036854775808', '-9223372036854775809', '99999999999999999999', 'x']],
  [{ kind: 'integer' }, ['1.234.5', '1,5'], '1.234,56'],
  [numeric(), ['.', '-', 'e5', '1e', '1.2.3', '1e1001', '1e-1001', '-NaN', `0.${'0'.repeat(16_384)}`]],
  [numeric(4, 2), ['100', '99.995', 'NaN', '-inf', 'abc']],
  [numeric(2, 2), ['1', '0.995']],
  [{ kind: 'real' }, ['1e39', '1e-46', 'abc', '1..2', 'infinit']],
  [{ kind: 'double precision' }, ['1e309', '1e-400', '0x1p3']],
  [{ kind: 'boolean' }, ['tru', 'yess', '2', '', 'on']],
  [{ kind: 'text' }, ['a\u0000b']],
  [{ kind: 'varchar', length: 2 }, ['abc', 'é\u0000']],
  [{ kind: 'date' }, ['2023-02-29', '2024-13-01', '0000-01-01', '2024-1-01', '20240101']],
  [{ kind: 'date' }, ['31-12-1999', '32/01/2000'], 'DD/MM/YYYY'],
  [{ kind: 'timestamp' }, ['2024-01-31T10:00:00Z', '2024-01-31T24:00', '9999-12-31T23:59:59.9999999']],
  [{ kind: 'timestamptz' }, ['2024-01-31T10:00:00+16:00', '2024-01-31T13:45:00.', '1706700000']],
  [{ kind: 'timestamptz' }, ['-99999999999999', 'abc', '1.2.3'], 'epoch'],
  [{ kind: 'timestamptz' }, ['2024-01-31 13'], 'YYYY-MM-DD HH:mm'],
  [{ kind: 'uuid' }, ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1', 'g0eebc999c0b4ef8bb6d6bb9bd380a11', '{}']],
  [
    { kind: 'jsonb' },
    ['{', '{"a":1,}', '"\\u0000"', '"\\ud800"', '1e1001', `${'['.repeat(1001)}${']'.repeat(1001)}`],
  ],
];

describe('binary rejects exactly what text rejects, for the same reason', () => {
  for (const [spec, values, format] of INVALID) {
    const col = column(spec, format);
    it.each(values)(`${col.type.sql}${format === undefined ? '' : ` (${format})`} %j`, (value) => {
      const text = coerce(col, value);
      expect(text).toHaveProperty('error');
      expect(binary(col, value)).toEqual(text);
    });
  }
});
