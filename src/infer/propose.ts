/**
 * `inlet infer`: a sample of a file → a proposed pipeline as YAML.
 */
import { basename } from 'node:path';
import { UsageError } from '../errors.js';
import { type FormatName, PIPELINE_NAME, type XlsxOptions } from '../model/contract.js';
import type { ObjectSource } from '../model/ingestion.js';
import { toIdentifier } from './identifiers.js';
import { type InferredColumn, inferColumns } from './infer.js';
import { renderProposal } from './render.js';
import { type Sample, sampleSource } from './sample.js';
import { DEFAULT_SAMPLE_ROWS } from './sample-size.js';

export interface ProposeOptions {
  /** `schema.table` or `table`; default `public.<file name>`. */
  readonly table?: string;
  readonly sampleRows?: number;
  readonly format?: FormatName;
  readonly xlsx?: XlsxOptions;
}

export interface Proposal {
  readonly yaml: string;
  readonly sample: Sample;
  readonly columns: readonly InferredColumn[];
}

/** The file name without its extensions: `orders.2024.csv.gz` → `orders_2024`. */
function stem(name: string): string {
  const base = basename(name).replace(/(\.(gz|gzip|br|zz|zlib|deflate|zip))+$/i, '');
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

export async function proposePipeline(source: ObjectSource, options: ProposeOptions = {}): Promise<Proposal> {
  const sample = await sampleSource(source, {
    rows: options.sampleRows ?? DEFAULT_SAMPLE_ROWS,
    ...(options.format === undefined ? {} : { format: options.format }),
    ...(options.xlsx === undefined ? {} : { xlsx: options.xlsx }),
  });
  const columns = inferColumns(sample);
  const table = tableName(options.table ?? toIdentifier(stem(source.name), 'data'));
  const name = toIdentifier(table.split('.').pop() ?? 'data', 'data').replace(/_+/g, '_');
  if (!PIPELINE_NAME.test(name))
    throw new UsageError('invalid_argument', `cannot make a pipeline name from ${table}`);
  const yaml = renderProposal(sample, columns, {
    file: basename(source.name),
    name,
    table,
    match: [basename(source.name)],
    ...(options.xlsx?.sheet === undefined ? {} : { sheet: options.xlsx.sheet }),
    ...(options.xlsx?.headerRow === undefined ? {} : { headerRow: options.xlsx.headerRow }),
  });
  return { yaml, sample, columns };
}

/** `--table orders` → `public.orders`; each part must be a safe identifier as given. */
function tableName(spelled: string): string {
  const parts = spelled.split('.');
  if (parts.length > 2 || parts.some((p) => p === '')) {
    throw new UsageError('invalid_argument', `--table: expected "schema.name" or "name", got "${spelled}"`);
  }
  const [schema, table] = parts.length === 2 ? parts : ['public', parts[0]];
  return `${toIdentifier(schema ?? 'public', 'public')}.${toIdentifier(table ?? 'data', 'data')}`;
}
