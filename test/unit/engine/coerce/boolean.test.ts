import { describe, expect, it } from 'vitest';
import { typed } from './run-coercer.js';

const boolean = typed('boolean');
const REASON = 'not a boolean (expected true/false, t/f, yes/no, 1/0)';

describe('boolean', () => {
  it.each(['true', 'TRUE', 'True', 't', 'T', 'yes', 'YES', 'Yes', '1', ' true '])('%j → t', (input) => {
    expect(boolean(input)).toEqual({ ok: 't' });
  });

  it.each(['false', 'FALSE', 'False', 'f', 'F', 'no', 'NO', 'No', '0', '  0'])('%j → f', (input) => {
    expect(boolean(input)).toEqual({ ok: 'f' });
  });

  it.each([
    '2',
    'y',
    'n',
    'on',
    'off',
    'tru',
    'truee',
    'falsey',
    'yes!',
    '10',
    '-1',
    ' ',
    'ｔｒｕｅ',
    't\u0001',
  ])('rejects %j', (input) => {
    expect(boolean(input)).toEqual({ error: REASON });
  });
});
