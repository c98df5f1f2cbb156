import { describe, expect, it } from 'vitest';
import type { ScalarKind } from '../../../../src/model/contract.js';
import { coerce, column } from './run-coercer.js';

/** A value that would be valid for the type, so only the NUL byte can be the reason. */
const VALID: Record<ScalarKind, string> = {
  smallint: '12',
  integer: '12',
  bigint: '12',
  numeric: '1.5',
  real: '1.5',
  'double precision': '1.5',
  boolean: 'true',
  text: 'abc',
  varchar: 'abc',
  date: '2024-01-31',
  timestamp: '2024-01-31 10:00:00',
  timestamptz: '2024-01-31 10:00:00',
  uuid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  jsonb: '"abc"',
};

function withNul(value: string, at: number): Uint8Array {
  const bytes = Buffer.from(value, 'utf8');
  return Buffer.concat([bytes.subarray(0, at), Buffer.from([0]), bytes.subarray(at)]);
}

describe('NUL bytes', () => {
  const kinds = Object.keys(VALID) as ScalarKind[];

  it.each(kinds)('%s rejects a NUL byte anywhere', (kind) => {
    const col = column({ kind, ...(kind === 'varchar' ? { length: 10 } : {}) });
    const value = VALID[kind];
    expect(coerce(col, value)).toHaveProperty('ok');
    for (const at of [0, 1, value.length]) {
      expect(coerce(col, withNul(value, at))).toEqual({ error: 'contains a NUL byte' });
    }
  });

  it('rejects NUL also for scaled numeric, formats and a NUL-only value', () => {
    const scaled = column({ kind: 'numeric', precision: 4, scale: 2 });
    expect(coerce(scaled, withNul('1.5', 1))).toEqual({ error: 'contains a NUL byte' });
    expect(coerce(column({ kind: 'numeric' }, '1.234,5'), withNul('1.234', 1))).toEqual({
      error: 'contains a NUL byte',
    });
    expect(coerce(column({ kind: 'date' }, 'DD/MM/YYYY'), withNul('31/01/2024', 2))).toEqual({
      error: 'contains a NUL byte',
    });
    expect(coerce(column({ kind: 'timestamptz' }, 'epoch'), withNul('17', 1))).toEqual({
      error: 'contains a NUL byte',
    });
    expect(coerce(column({ kind: 'text' }), new Uint8Array([0]))).toEqual({ error: 'contains a NUL byte' });
  });
});
