import { makeCoercer } from '../../../../src/engine/coerce/index.js';
import { CopyTextBuffer } from '../../../../src/engine/copy-text.js';
import type { ColumnContract, ColumnType } from '../../../../src/model/contract.js';

export type Outcome = { ok: string } | { error: string };

export function column(type: Omit<ColumnType, 'sql'> & { sql?: string }, format?: string): ColumnContract {
  return {
    name: 'c',
    source: 'c',
    nullable: true,
    type: { sql: type.kind, ...type },
    ...(format === undefined ? {} : { format }),
  };
}

/**
 * Runs one value through a coercer built for `col`. The value is placed inside a larger buffer
 * with junk around it, so a coercer that reads outside [start, end) shows up as a wrong result.
 */
export function coerce(col: ColumnContract, value: string | Uint8Array): Outcome {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const src = new Uint8Array(bytes.length + 6);
  src.set([0x39, 0x2c, 0x5c], 0);
  src.set(bytes, 3);
  src.set([0x35, 0x2d, 0x22], bytes.length + 3);
  const out = new CopyTextBuffer(4);
  out.ascii('x');
  const error = makeCoercer(col)(src, 3, 3 + bytes.length, out);
  if (error !== undefined) return { error };
  return { ok: out.buf.toString('utf8', 1, out.pos) };
}

/** Shorthand: a coercer for a type spelled by kind only, e.g. `typed('integer')`. */
export function typed(kind: ColumnType['kind'], format?: string): (value: string | Uint8Array) => Outcome {
  const col = column({ kind }, format);
  return (value) => coerce(col, value);
}
