/**
 * The versions of an evolving pipeline's contract (`onDrift: evolve`, migration 010): version 1 is the
 * configured contract, each later one the columns a file added. A load's contract is the configured columns
 * plus the columns of every stored version; `inlet plan` compares the table with the same, and
 * `inlet contracts` lists the versions.
 */
import { InletError } from '../errors.js';
import { parseColumnType } from '../model/column-type.js';
import type { ColumnContract, Pipeline } from '../model/contract.js';
import type { EvolvedColumn } from '../model/ingestion.js';
import type { Queryable } from './reconcile/live-table.js';

export interface ContractVersion {
  readonly version: number;
  /** The table the columns were added to, `schema.name`: a pipeline pointed at another table starts afresh. */
  readonly table: string;
  /** The columns this version added. */
  readonly columns: readonly EvolvedColumn[];
  /** The statement that added them; empty when the table had them already. */
  readonly ddl: string;
  /** The ingestion whose file added them, and that file. */
  readonly ingestionId: string;
  readonly source: string;
  readonly createdAt: Date;
}

interface VersionRow {
  version: number;
  target_table: string;
  columns: EvolvedColumn[];
  ddl: string;
  ingestion_id: string;
  source_uri: string;
  created_at: Date;
}

/** The stored versions of a pipeline's contract, oldest first (none for a pipeline that never evolved). */
export async function readContractVersions(db: Queryable, pipeline: string): Promise<ContractVersion[]> {
  const { rows } = await db.query<VersionRow>(
    `SELECT version, target_table, columns, ddl, ingestion_id, source_uri, created_at
       FROM inlet.contract_versions WHERE pipeline = $1 ORDER BY version`,
    [pipeline],
  );
  return rows.map(versionOf);
}

export function versionOf(row: VersionRow): ContractVersion {
  return {
    version: row.version,
    table: row.target_table,
    columns: row.columns,
    ddl: row.ddl,
    ingestionId: row.ingestion_id,
    source: row.source_uri,
    createdAt: row.created_at,
  };
}

/**
 * The columns stored versions add to the configured contract, as contract columns. A column the configuration
 * lists by the same name, or that reads the same source, is the configuration's: listing an evolved column in
 * `columns` (to give it another type, a format, NOT NULL) takes it over. Only versions of the pipeline's
 * current table count.
 */
export function evolvedColumns(pipeline: Pipeline, versions: readonly ContractVersion[]): ColumnContract[] {
  const added: ColumnContract[] = [];
  const names = new Set(pipeline.columns.map((column) => column.name));
  const sources = new Set(pipeline.columns.map((column) => column.source));
  const table = tableName(pipeline);
  for (const version of versions) {
    // Columns added to the table the pipeline loaded before it was pointed at this one are that table's.
    if (version.table !== table) continue;
    for (const column of version.columns) {
      if (names.has(column.name) || sources.has(column.source)) continue;
      names.add(column.name);
      sources.add(column.source);
      added.push(toContractColumn(pipeline, version.version, column));
    }
  }
  return added;
}

/** How inlet.contract_versions names a pipeline's table. */
export function tableName(pipeline: Pipeline): string {
  return `${pipeline.table.schema}.${pipeline.table.name}`;
}

/** The pipeline with the columns of its stored versions after its configured ones. */
export function withEvolvedColumns(pipeline: Pipeline, versions: readonly ContractVersion[]): Pipeline {
  const added = evolvedColumns(pipeline, versions);
  return added.length === 0 ? pipeline : { ...pipeline, columns: [...pipeline.columns, ...added] };
}

function toContractColumn(pipeline: Pipeline, version: number, column: EvolvedColumn): ColumnContract {
  const type = parseColumnType(column.type);
  if (typeof type === 'string') {
    throw new InletError(
      'stored_contract_invalid',
      `Version ${version} of the contract of pipeline "${pipeline.name}" in inlet.contract_versions has column "${column.name}" of ${type}. ` +
        'Another version of Inlet wrote it, or it was edited: run that version, or list the column in the pipeline.',
    );
  }
  return {
    name: column.name,
    type,
    source: column.source,
    nullable: true,
    ...(column.format === undefined ? {} : { format: column.format }),
  };
}

/** Version 1 of an `infer: true` pipeline's contract: the columns its first file decided (inlet.contracts). */
export interface InferredContract {
  readonly columns: readonly (EvolvedColumn & { readonly nullable: boolean })[];
  readonly ingestionId: string;
  readonly source: string;
  readonly createdAt: Date;
}

export async function readInferredContract(
  db: Queryable,
  pipeline: string,
): Promise<InferredContract | undefined> {
  const { rows } = await db.query<{
    columns: InferredContract['columns'];
    ingestion_id: string;
    inferred_from: string;
    created_at: Date;
  }>('SELECT columns, ingestion_id, inferred_from, created_at FROM inlet.contracts WHERE pipeline = $1', [
    pipeline,
  ]);
  const row = rows[0];
  return row === undefined
    ? undefined
    : {
        columns: row.columns,
        ingestionId: row.ingestion_id,
        source: row.inferred_from,
        createdAt: row.created_at,
      };
}
