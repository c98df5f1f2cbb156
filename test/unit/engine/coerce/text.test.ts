import { describe, expect, it } from 'vitest';
import { coerce, column, typed } from './run-coercer.js';

const text = typed('text');
const varchar = (length: number) => (input: string) =>
  coerce(column({ kind: 'varchar', length, sql: `varchar(${length})` }), input);

describe('text', () => {
  it.each([
    ['hello', 'hello'],
    ['  spaces kept  ', '  spaces kept  '],
    ['tab\there', 'tab\\there'],
    ['line\nbreak', 'line\\nbreak'],
    ['carriage\rreturn', 'carriage\\rreturn'],
    ['back\\slash', 'back\\\\slash'],
    ['\\N', '\\\\N'],
    ['\t\n\r\\', '\\t\\n\\r\\\\'],
    ['naïve café 日本 🎉', 'naïve café 日本 🎉'],
    ['"quoted",comma', '"quoted",comma'],
  ])('%j → %j', (input, expected) => {
    expect(text(input)).toEqual({ ok: expected });
  });

  it('treats unbounded varchar as text', () => {
    expect(typed('varchar')('a\tb')).toEqual({ ok: 'a\\tb' });
  });
});

describe('varchar(n)', () => {
  it('counts characters, not bytes', () => {
    expect(varchar(4)('日本語!')).toEqual({ ok: '日本語!' });
    expect(varchar(4)('日本語!!')).toEqual({ error: 'longer than 4 characters (varchar(4))' });
    expect(varchar(1)('🎉')).toEqual({ ok: '🎉' });
    expect(varchar(1)('é')).toEqual({ ok: 'é' });
    expect(varchar(1)('e\u0301')).toEqual({ error: 'longer than 1 characters (varchar(1))' });
  });

  it('accepts exactly n characters and rejects n + 1', () => {
    expect(varchar(40)('x'.repeat(40))).toEqual({ ok: 'x'.repeat(40) });
    expect(varchar(40)('x'.repeat(41))).toEqual({ error: 'longer than 40 characters (varchar(40))' });
  });

  it('counts an escaped character once', () => {
    expect(varchar(3)('a\tb')).toEqual({ ok: 'a\\tb' });
    expect(varchar(2)('\\\\')).toEqual({ ok: '\\\\\\\\' });
  });

  it('keeps and counts spaces', () => {
    expect(varchar(3)(' ab')).toEqual({ ok: ' ab' });
    expect(varchar(3)('ab  ')).toEqual({ error: 'longer than 3 characters (varchar(3))' });
  });
});
