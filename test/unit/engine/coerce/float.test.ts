import { describe, expect, it } from 'vitest';
import { typed } from './run-coercer.js';

const real = typed('real');
const double = typed('double precision');

describe('real and double precision', () => {
  it.each([
    ['1.5', '1.5'],
    [' -2 ', '-2'],
    ['+.5', '+.5'],
    ['5.', '5.'],
    ['1e10', '1e10'],
    ['-1.25E-3', '-1.25E-3'],
    ['0', '0'],
    ['0e-999', '0e-999'],
    ['NaN', 'NaN'],
    ['nan', 'NaN'],
    ['Infinity', 'Infinity'],
    ['-infinity', '-Infinity'],
    ['+Inf', 'Infinity'],
    ['-INF', '-Infinity'],
  ])('double %j → %j', (input, expected) => {
    expect(double(input)).toEqual({ ok: expected });
  });

  it.each(['abc', '1,5', '.', 'e3', '1e', '0x1p3', '1.2.3', '-NaN', 'infinit', '1 000'])(
    'rejects %j',
    (input) => {
      expect(double(input)).toEqual({ error: 'not a number' });
      expect(real(input)).toEqual({ error: 'not a number' });
    },
  );

  it.each([
    ['1.7976931348623157e308', { ok: '1.7976931348623157e308' }],
    ['1e308', { ok: '1e308' }],
    ['1e309', { error: 'out of range for double precision' }],
    ['-1e309', { error: 'out of range for double precision' }],
    ['4.9e-324', { ok: '4.9e-324' }],
    ['2e-324', { error: 'out of range for double precision' }],
    ['1e-400', { error: 'out of range for double precision' }],
    ['0.0000000000000000000000000000001', { ok: '0.0000000000000000000000000000001' }],
    [`1${'0'.repeat(400)}`, { error: 'out of range for double precision' }],
    [`0.${'0'.repeat(400)}`, { ok: `0.${'0'.repeat(400)}` }],
  ])('double range %#: %s', (input, expected) => {
    expect(double(input)).toEqual(expected);
  });

  it.each([
    ['3.4028235e38', { ok: '3.4028235e38' }],
    ['3.40282356e38', { ok: '3.40282356e38' }],
    ['3.5e38', { error: 'out of range for real' }],
    ['-3.5e38', { error: 'out of range for real' }],
    ['1e39', { error: 'out of range for real' }],
    ['1e-45', { ok: '1e-45' }],
    ['1.17549435e-38', { ok: '1.17549435e-38' }],
    ['1e-46', { error: 'out of range for real' }],
    ['-1e-50', { error: 'out of range for real' }],
    ['1e38', { ok: '1e38' }],
    ['-Infinity', { ok: '-Infinity' }],
  ])('real range %#: %s', (input, expected) => {
    expect(real(input)).toEqual(expected);
  });
});
