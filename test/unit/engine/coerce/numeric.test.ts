import { describe, expect, it } from 'vitest';
import { coerce, column, typed } from './run-coercer.js';

const numeric = typed('numeric');
const scaled = (precision: number, scale: number) => (input: string) =>
  coerce(column({ kind: 'numeric', precision, scale, sql: `numeric(${precision},${scale})` }), input);

describe('numeric', () => {
  it.each([
    ['12.50', '12.50'],
    ['-3', '-3'],
    ['+.5', '+.5'],
    ['5.', '5.'],
    ['1e3', '1e3'],
    ['1.5E-10', '1.5E-10'],
    ['  007.10 ', '007.10'],
    ['123456789012345678901234567890.123456789', '123456789012345678901234567890.123456789'],
    ['NaN', 'NaN'],
    ['nan', 'NaN'],
    ['Infinity', 'Infinity'],
    ['-inf', '-Infinity'],
    ['+INFINITY', 'Infinity'],
  ])('unconstrained %j → %j', (input, expected) => {
    expect(numeric(input)).toEqual({ ok: expected });
  });

  it.each(['.', '-', 'e5', '1e', '1e+', '1.2.3', '1,5', 'abc', '12 3', '0x10', '-NaN', 'infinit'])(
    'rejects %j',
    (input) => {
      expect(numeric(input)).toEqual({ error: 'not a number' });
    },
  );

  it('rejects exponents and scales PostgreSQL cannot store', () => {
    expect(numeric('1e1000')).toEqual({ ok: '1e1000' });
    expect(numeric('1e1001')).toEqual({ error: 'out of range for numeric' });
    expect(numeric('1e-1001')).toEqual({ error: 'out of range for numeric' });
    expect(numeric(`0.${'0'.repeat(16_383)}`)).toEqual({ ok: `0.${'0'.repeat(16_383)}` });
    expect(numeric(`0.${'0'.repeat(16_384)}`)).toEqual({ error: 'out of range for numeric' });
  });
});

describe('numeric(p,s)', () => {
  it.each([
    [12, 2, '12345.67', '12345.67'],
    [12, 2, '12345.6', '12345.6'],
    [12, 2, '-0.5', '-0.5'],
    [12, 2, '9999999999.99', '9999999999.99'],
    [12, 2, '0000000000001.25', '0000000000001.25'],
    [4, 2, '1.005', '1.01'],
    [4, 2, '1.004', '1.00'],
    [4, 2, '-1.005', '-1.01'],
    [4, 2, '99.994', '99.99'],
    [4, 2, '-0.001', '0.00'],
    [4, 2, '0.005', '0.01'],
    [4, 2, '1.5e1', '15.00'],
    [4, 2, '1234e-2', '12.34'],
    [4, 2, '0.9999e2', '99.99'],
    [4, 2, '5e-3', '0.01'],
    [4, 2, '4.9e-3', '0.00'],
    [4, 2, '0e500', '0.00'],
    [4, 2, '1e-1000', '0.00'],
    [2, 2, '0.994', '0.99'],
    [2, 2, '-0.5', '-0.5'],
    [2, 2, '-0.505', '-0.51'],
    [5, 0, '12345.4', '12345'],
    [5, 0, '0.5', '1'],
    [5, 0, '-0.4', '0'],
    [5, 0, '99999.49', '99999'],
  ])('numeric(%i,%i): %j → %j', (precision, scale, input, expected) => {
    expect(scaled(precision, scale)(input)).toEqual({ ok: expected });
  });

  it.each([
    [
      12,
      2,
      '99999999999',
      'numeric field overflow: at most 10 digits before the decimal point (numeric(12,2))',
    ],
    [
      12,
      2,
      '9999999999.995',
      'numeric field overflow: at most 10 digits before the decimal point (numeric(12,2))',
    ],
    [4, 2, '99.995', 'numeric field overflow: at most 2 digits before the decimal point (numeric(4,2))'],
    [4, 2, '-99.995', 'numeric field overflow: at most 2 digits before the decimal point (numeric(4,2))'],
    [4, 2, '100', 'numeric field overflow: at most 2 digits before the decimal point (numeric(4,2))'],
    [4, 2, '1e2', 'numeric field overflow: at most 2 digits before the decimal point (numeric(4,2))'],
    [4, 2, '1e999', 'numeric field overflow: at most 2 digits before the decimal point (numeric(4,2))'],
    [2, 2, '0.995', 'numeric field overflow: must round to less than 1 in absolute value (numeric(2,2))'],
    [2, 2, '1', 'numeric field overflow: must round to less than 1 in absolute value (numeric(2,2))'],
    [3, 2, '9.999', 'numeric field overflow: at most 1 digit before the decimal point (numeric(3,2))'],
    [5, 0, '99999.5', 'numeric field overflow: at most 5 digits before the decimal point (numeric(5,0))'],
    [4, 2, 'NaN', 'NaN and Infinity are not allowed in numeric(4,2)'],
    [4, 2, '-Infinity', 'NaN and Infinity are not allowed in numeric(4,2)'],
    [4, 2, '1e1001', 'out of range for numeric'],
    [4, 2, '1,5', 'not a number'],
  ])('numeric(%i,%i): rejects %j', (precision, scale, input, reason) => {
    expect(scaled(precision, scale)(input)).toEqual({ error: reason });
  });

  it('treats numeric(p) as scale 0', () => {
    const col = column({ kind: 'numeric', precision: 3, sql: 'numeric(3)' });
    expect(coerce(col, '12.5')).toEqual({ ok: '13' });
    expect(coerce(col, '999.5')).toEqual({
      error: 'numeric field overflow: at most 3 digits before the decimal point (numeric(3,0))',
    });
  });
});

describe('number formats', () => {
  const european = (input: string) =>
    coerce(column({ kind: 'numeric', precision: 12, scale: 2, sql: 'numeric(12,2)' }, '1.234,56'), input);
  const american = typed('numeric', '1,234.56');

  it.each([
    ['1.234,56', '1234.56'],
    ['1.234.567,891', '1234567.89'],
    ['-1.234', '-1234'],
    ['1234,5', '1234.5'],
    ['0,05', '0.05'],
    [',5', '.5'],
    ['12', '12'],
  ])('1.234,56: %j → %j', (input, expected) => {
    expect(european(input)).toEqual({ ok: expected });
  });

  it.each(['1.5', '1.23', '12.34,5', '1.2345', '.123', '1,2,3', '1.234.56', '1 234,56', '1,234.56'])(
    '1.234,56: rejects %j',
    (input) => {
      expect(european(input)).toEqual({ error: 'not a number in the format 1.234,56' });
    },
  );

  it('reads the US layout and leaves exponents to numeric', () => {
    expect(american('1,234,567.5')).toEqual({ ok: '1234567.5' });
    expect(american('1,5e3')).toEqual({ error: 'not a number in the format 1,234.56' });
    expect(american('1.5e3')).toEqual({ ok: '1.5e3' });
    expect(american('NaN')).toEqual({ ok: 'NaN' });
    expect(american('1,23')).toEqual({ error: 'not a number in the format 1,234.56' });
  });

  it('supports a multibyte thousands separator (no-break space)', () => {
    const french = typed('numeric', '1\u00a0234,56');
    expect(french('1\u00a0234\u00a0567,5')).toEqual({ ok: '1234567.5' });
    expect(french('1 234,5')).toEqual({ error: 'not a number in the format 1\u00a0234,56' });
  });

  it('applies to integer and float columns too', () => {
    expect(typed('integer', '1.234,5')('1.234.567')).toEqual({ ok: '1234567' });
    // The last separator of a format is its decimal mark, even when the column holds integers.
    expect(typed('integer', '1.234')('1.234')).toEqual({ error: 'not an integer' });
    expect(typed('integer', '1.234,5')('1,0')).toEqual({ error: 'not an integer' });
    expect(typed('double precision', '1.234,5')('-1.234,5e2')).toEqual({ ok: '-1234.5e2' });
  });
});
