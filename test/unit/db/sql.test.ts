import { describe, expect, it } from 'vitest';
import { quoteIdent, quoteTable } from '../../../src/db/sql.js';
import { InletError } from '../../../src/errors.js';

describe('quoteIdent', () => {
  it('wraps plain names in double quotes', () => {
    expect(quoteIdent('orders')).toBe('"orders"');
    expect(quoteIdent('Order Lines')).toBe('"Order Lines"');
    expect(quoteIdent('select')).toBe('"select"');
  });

  it('doubles inner double quotes so an injection attempt stays one identifier', () => {
    expect(quoteIdent('x"; DROP TABLE users; --')).toBe('"x""; DROP TABLE users; --"');
    expect(quoteIdent('"')).toBe('""""');
  });

  it('accepts exactly 63 bytes, counting UTF-8 bytes rather than characters', () => {
    expect(quoteIdent('a'.repeat(63))).toBe(`"${'a'.repeat(63)}"`);
    // 'é' is two bytes: 31 of them plus one ASCII letter make 63 bytes.
    expect(quoteIdent(`${'é'.repeat(31)}a`)).toBe(`"${'é'.repeat(31)}a"`);
  });

  it('refuses a 64-byte name instead of letting PostgreSQL truncate it', () => {
    expect(() => quoteIdent('a'.repeat(64))).toThrow(/64 bytes.*at most 63/);
    expect(() => quoteIdent('é'.repeat(32))).toThrow(/64 bytes/);
  });

  it('refuses NUL and empty names', () => {
    expect(() => quoteIdent('a\0b')).toThrow(/NUL/);
    expect(() => quoteIdent('')).toThrow(/empty/);
    try {
      quoteIdent('');
    } catch (err) {
      expect(err).toBeInstanceOf(InletError);
      expect((err as InletError).code).toBe('invalid_identifier');
    }
  });
});

describe('quoteTable', () => {
  it('quotes schema and name separately so a dot in a name stays in it', () => {
    expect(quoteTable({ schema: 'public', name: 'orders' })).toBe('"public"."orders"');
    expect(quoteTable({ schema: 'my.schema', name: 'a"b' })).toBe('"my.schema"."a""b"');
  });

  it('validates both parts', () => {
    expect(() => quoteTable({ schema: 'public', name: 'x'.repeat(64) })).toThrow(/at most 63/);
    expect(() => quoteTable({ schema: '', name: 'orders' })).toThrow(/empty/);
  });
});
