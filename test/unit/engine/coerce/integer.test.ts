import { describe, expect, it } from 'vitest';
import { typed } from './run-coercer.js';

const smallint = typed('smallint');
const integer = typed('integer');
const bigint = typed('bigint');

describe('integer types', () => {
  it.each([
    ['42', '42'],
    ['-17', '-17'],
    ['+5', '5'],
    ['0', '0'],
    ['-0', '0'],
    ['000', '0'],
    ['007', '7'],
    ['-0042', '-42'],
    ['  12  ', '12'],
  ])('integer %j → %j', (input, expected) => {
    expect(integer(input)).toEqual({ ok: expected });
  });

  it.each([
    '1.5',
    '1.0',
    '1e3',
    'abc',
    '12a',
    '-',
    '+',
    '--1',
    '+-1',
    '1 2',
    '٣',
    '0x1F',
    '1_000',
    ' ',
    '\t1',
  ])('rejects %j as not an integer', (input) => {
    expect(integer(input)).toEqual({ error: 'not an integer' });
  });

  const SMALLINT = 'out of range for smallint (-32768 to 32767)';
  const INTEGER = 'out of range for integer (-2147483648 to 2147483647)';
  const BIGINT = 'out of range for bigint (-9223372036854775808 to 9223372036854775807)';

  it.each([
    [smallint, '32767', { ok: '32767' }],
    [smallint, '-32768', { ok: '-32768' }],
    [smallint, '32768', { error: SMALLINT }],
    [smallint, '-32769', { error: SMALLINT }],
    [smallint, '0000032767', { ok: '32767' }],
    [smallint, '100000', { error: SMALLINT }],
    [integer, '2147483647', { ok: '2147483647' }],
    [integer, '-2147483648', { ok: '-2147483648' }],
    [integer, '2147483648', { error: INTEGER }],
    [integer, '-2147483649', { error: INTEGER }],
    [integer, '9999999999', { error: INTEGER }],
    [integer, '12345678901', { error: INTEGER }],
    [bigint, '9223372036854775807', { ok: '9223372036854775807' }],
    [bigint, '-9223372036854775808', { ok: '-9223372036854775808' }],
    [bigint, '9223372036854775808', { error: BIGINT }],
    [bigint, '-9223372036854775809', { error: BIGINT }],
    [bigint, '9223372036854775799', { ok: '9223372036854775799' }],
    [bigint, '9300000000000000000', { error: BIGINT }],
    [bigint, '10000000000000000000', { error: BIGINT }],
    [bigint, '00000009223372036854775807', { ok: '9223372036854775807' }],
  ])('range %#: %s', (coerce, input, expected) => {
    expect(coerce(input)).toEqual(expected);
  });

  it('keeps precision beyond 2^53 for bigint', () => {
    expect(bigint('9007199254740993')).toEqual({ ok: '9007199254740993' });
  });

  it('prefers "not an integer" over a range error when the value is not all digits', () => {
    expect(bigint('99999999999999999999x')).toEqual({ error: 'not an integer' });
  });
});
