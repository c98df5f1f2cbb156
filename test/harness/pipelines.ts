import { parseColumnType } from '../../src/engine/column-type.js';
import {
  type ColumnContract,
  DEFAULT_CSV,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  type Pipeline,
} from '../../src/engine/contract.js';

export interface ColumnSpec {
  name: string;
  type: string;
  nullable?: boolean;
  source?: string;
  default?: string;
  format?: string;
}

/** A validated pipeline for tests, with the documented defaults; `columns` use SQL type spellings. */
export function testPipeline(
  overrides: Omit<Partial<Pipeline>, 'columns' | 'csv'> & {
    columns: ColumnSpec[];
    csv?: Partial<Pipeline['csv']>;
  },
): Pipeline {
  const { columns, csv, ...rest } = overrides;
  return {
    name: 'test',
    match: ['**'],
    format: 'auto',
    table: { schema: 'public', name: 'target' },
    createTable: true,
    mode: 'append',
    key: [],
    rejects: { maxRatio: 0 },
    duplicateKeys: 'last',
    timezone: 'UTC',
    onDrift: 'reject',
    afterLoad: 'none',
    infer: false,
    limits: { maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BYTES },
    ...rest,
    csv: { ...DEFAULT_CSV, ...csv },
    columns: columns.map((c): ColumnContract => {
      const type = parseColumnType(c.type);
      if (typeof type === 'string') throw new Error(type);
      return {
        name: c.name,
        type,
        source: c.source ?? c.name,
        nullable: c.nullable ?? !(rest.key ?? []).includes(c.name),
        ...(c.default === undefined ? {} : { default: c.default }),
        ...(c.format === undefined ? {} : { format: c.format }),
      };
    }),
  };
}
