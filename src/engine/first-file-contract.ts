/**
 * `infer: true` pipelines without columns: the first file decides the contract. Its columns are
 * inferred from a sample of it, stored in inlet.contracts and its table created, all inside that
 * file's transaction, so they exist only if the file loads. Later files use the stored contract, and
 * a file of another shape is schema drift like anywhere else.
 */
import type { PoolClient } from 'pg';
import { quoteIdent } from '../db/sql.js';
import { FormatError, InletError } from '../errors.js';
import type { SampleOptions } from '../infer/sample.js';
import { CONTRACT_SAMPLE_ROWS } from '../infer/sample-size.js';
import { parseColumnType } from '../model/column-type.js';
import type { ColumnContract, Pipeline } from '../model/contract.js';
import type { ObjectSource } from '../model/ingestion.js';
import { createTableSql } from './create-table.js';

interface StoredColumn {
  readonly name: string;
  readonly type: string;
  readonly source: string;
  readonly nullable: boolean;
  readonly format?: string;
}

export function infersContract(pipeline: Pipeline): boolean {
  return pipeline.infer && pipeline.columns.length === 0;
}

/** The pipeline with its stored contract, or with one inferred from `source` (then stored, with its table). */
export async function withInferredContract(
  client: PoolClient,
  pipeline: Pipeline,
  source: ObjectSource,
  ingestionId: string,
): Promise<Pipeline> {
  const stored = await storedColumns(client, pipeline.name);
  if (stored !== undefined) return withColumns(pipeline, stored);
  // The first files of a pipeline take turns: whichever commits first decides the contract.
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`inlet.contract:${pipeline.name}`]);
  const decided = await storedColumns(client, pipeline.name);
  if (decided !== undefined) return withColumns(pipeline, decided);

  // Inference loads only for the first file of an `infer: true` pipeline.
  const [{ sampleSource }, { inferColumns }] = await Promise.all([
    import('../infer/sample.js'),
    import('../infer/infer.js'),
  ]);
  const sample = await sampleSource(source, sampleOptionsFor(pipeline, CONTRACT_SAMPLE_ROWS));
  const columns: StoredColumn[] = inferColumns(sample)
    .filter((column) => column.skip === undefined)
    .map((column) => ({
      name: column.name,
      type: column.type,
      source: column.source,
      // A sample cannot prove that a later file has no empty value: only key columns are NOT NULL.
      nullable: !pipeline.key.includes(column.name),
      ...(column.format === undefined ? {} : { format: column.format }),
    }));
  const missingKey = pipeline.key.filter((key) => !columns.some((c) => c.name === key));
  if (missingKey.length > 0) {
    throw new FormatError(
      'infer_key_missing',
      `Pipeline "${pipeline.name}" has key ${missingKey.map((k) => JSON.stringify(k)).join(', ')}, but the columns inferred from this file are ${columns
        .map((c) => JSON.stringify(c.name))
        .join(', ')}. Name the key by one of them (\`inlet infer <file>\` shows the names).`,
      { location: { source: source.uri } },
    );
  }
  const inferred = withColumns(pipeline, columns);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(pipeline.table.schema)}`);
  await client.query(createTableSql(inferred));
  await client.query(
    `INSERT INTO inlet.contracts (pipeline, target_table, columns, inferred_from, ingestion_id)
     VALUES ($1, $2, $3, $4, $5)`,
    [
      pipeline.name,
      `${pipeline.table.schema}.${pipeline.table.name}`,
      JSON.stringify(columns),
      source.uri,
      ingestionId,
    ],
  );
  return inferred;
}

async function storedColumns(client: PoolClient, pipeline: string): Promise<StoredColumn[] | undefined> {
  const { rows } = await client.query<{ columns: StoredColumn[] }>(
    'SELECT columns FROM inlet.contracts WHERE pipeline = $1',
    [pipeline],
  );
  return rows[0]?.columns;
}

function withColumns(pipeline: Pipeline, stored: readonly StoredColumn[]): Pipeline {
  const columns = stored.map((column): ColumnContract => {
    const type = parseColumnType(column.type);
    if (typeof type === 'string') {
      throw new InletError(
        'stored_contract_invalid',
        `The contract stored for pipeline "${pipeline.name}" in inlet.contracts has column "${column.name}" of ${type}. ` +
          'Another version of Inlet wrote it, or it was edited: run that version, or list the columns in the pipeline.',
      );
    }
    return {
      name: column.name,
      type,
      source: column.source,
      nullable: column.nullable && !pipeline.key.includes(column.name),
      ...(column.format === undefined ? {} : { format: column.format }),
    };
  });
  return { ...pipeline, columns, createTable: true };
}

/** How to sample a pipeline's file for inference: its own format, compression, CSV dialect and limits. */
export function sampleOptionsFor(pipeline: Pipeline, rows: number): SampleOptions {
  return {
    rows,
    format: pipeline.format,
    ...(pipeline.compression === undefined ? {} : { compression: pipeline.compression }),
    csv: pipeline.csv,
    ...(pipeline.xlsx === undefined ? {} : { xlsx: pipeline.xlsx }),
    ...pipeline.limits,
  };
}
