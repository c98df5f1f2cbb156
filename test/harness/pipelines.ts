import { parseConfig } from '../../src/config/load.js';
import type { Pipeline } from '../../src/model/contract.js';

export interface ColumnSpec {
  name: string;
  type: string;
  nullable?: boolean;
  source?: string;
  default?: string;
  format?: string;
  decimalSeparator?: '.' | ',';
}

type Overrides = Omit<Partial<Pipeline>, 'columns' | 'csv' | 'table' | 'limits'> & {
  limits?: Partial<Pipeline['limits']>;
  /** Omitted only with `infer: true`. */
  columns?: ColumnSpec[];
  csv?: Partial<Pipeline['csv']>;
  table?: { schema: string; name: string };
  /** The config key, which the loader turns into the number columns' formats. */
  decimalSeparator?: '.' | ',';
};

/**
 * A pipeline for tests, built by the real config loader from the same keys a user writes, so the
 * defaults and checks are the product's own. Tests default to `createTable: true` and a
 * match-everything glob.
 */
export function testPipeline(overrides: Overrides): Pipeline {
  const { table = { schema: 'public', name: 'target' }, ...rest } = overrides;
  const pipeline = {
    name: 'test',
    match: ['**'],
    createTable: true,
    ...rest,
    table: `${table.schema}.${table.name}`,
  };
  const config = parseConfig(JSON.stringify({ pipelines: [pipeline] }), 'test pipeline');
  return config.pipelines[0] as Pipeline;
}
