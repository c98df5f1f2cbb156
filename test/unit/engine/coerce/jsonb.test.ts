import { describe, expect, it } from 'vitest';
import { typed } from './run-coercer.js';

const jsonb = typed('jsonb');

describe('jsonb', () => {
  it.each([
    ['{"a":1}', '{"a":1}'],
    ['[1, 2.50, -3e2]', '[1, 2.50, -3e2]'],
    ['"text"', '"text"'],
    ['null', 'null'],
    ['  true  ', 'true'],
    ['{"a":\t1}', '{"a":\\t1}'],
    ['{\n"a": 1\r\n}', '{\\n"a": 1\\r\\n}'],
    ['{"path":"C:\\\\dir"}', '{"path":"C:\\\\\\\\dir"}'],
    ['{"n":12345678901234567890123}', '{"n":12345678901234567890123}'],
    ['"\\ud83d\\ude00"', '"\\\\ud83d\\\\ude00"'],
    ['{"a":"\\\\u0000"}', '{"a":"\\\\\\\\u0000"}'],
    ['{"é":"日本"}', '{"é":"日本"}'],
    ['[1e1000]', '[1e1000]'],
  ])('%j → %j', (input, expected) => {
    expect(jsonb(input)).toEqual({ ok: expected });
  });

  it.each([
    ['{', 'not valid JSON (ends too early)'],
    ['{"a" 1}', 'not valid JSON (at character 6)'],
    ["{'a':1}", 'not valid JSON (at character 2)'],
    ['[1,]', 'not valid JSON (unexpected "]")'],
    ['"abc', 'not valid JSON (ends too early)'],
    ['[1', 'not valid JSON (ends too early)'],
    ['{"a":"\\u0000"}', 'contains \\u0000, which PostgreSQL jsonb cannot store'],
    ['["x\\u0000y"]', 'contains \\u0000, which PostgreSQL jsonb cannot store'],
    ['"\\ud800"', 'contains an unpaired surrogate escape \\uD800, which PostgreSQL rejects'],
    ['"\\ud800\\u0041"', 'contains an unpaired surrogate escape \\uD800, which PostgreSQL rejects'],
    ['"\\udc00"', 'contains an unpaired surrogate escape \\uDC00, which PostgreSQL rejects'],
    ['[1e1001]', 'contains a number out of range for PostgreSQL numeric'],
    ['{"a":-2.5E-5000}', 'contains a number out of range for PostgreSQL numeric'],
    [`${'['.repeat(1001)}${']'.repeat(1001)}`, 'nested deeper than 1000 levels'],
  ])('rejects %j', (input, reason) => {
    expect(jsonb(input)).toEqual({ error: reason });
  });

  it('allows nesting up to the limit', () => {
    const deep = `${'['.repeat(1000)}${']'.repeat(1000)}`;
    expect(jsonb(deep)).toEqual({ ok: deep });
  });

  it('ignores brackets and numbers inside strings', () => {
    expect(jsonb('{"a":"[[[1e9999"}')).toEqual({ ok: '{"a":"[[[1e9999"}' });
  });
});
