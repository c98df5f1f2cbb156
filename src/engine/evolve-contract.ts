/**
 * `onDrift: evolve`: a column the file has and the contract lacks is added to the table, nullable, with the
 * type `inlet infer` gives it from the file's first rows (a Parquet column's own type), in the file's
 * transaction, and recorded as a new contract version (contract-versions.ts) with the DDL and the ingestion
 * that ran it. A file that does not load takes the column and the version with it.
 *
 * Files that add columns to one table take turns under a transaction-scoped advisory lock: the second, once
 * the first has committed, finds the column in the contract (or, from another pipeline, in the table) and
 * loads into it. Nothing is ever dropped, narrowed or cast: a value that does not fit the
 * column's type is a rejected row like any other, and a table column of the same name and another type fails
 * the file with a message instead of being reused.
 */
import type { PoolClient } from 'pg';
import { MAX_IDENTIFIER_BYTES, quoteIdent, quoteTable } from '../db/sql.js';
import { DatabaseError, FormatError, InletError } from '../errors.js';
import type { Sample } from '../infer/sample.js';
import { CONTRACT_SAMPLE_ROWS } from '../infer/sample-size.js';
import { parseColumnType } from '../model/column-type.js';
import type { Pipeline } from '../model/contract.js';
import type { ContractChange, EvolvedColumn, ObjectSource } from '../model/ingestion.js';
import { type ContractVersion, tableName, versionOf, withEvolvedColumns } from './contract-versions.js';
import { unexpectedFields } from './encode/drift.js';
import { sampleOptionsFor } from './first-file-contract.js';
import { tableMismatch } from './table-mismatch.js';
import { baseTypeOf, loadableTypes } from './table-shape.js';

export interface EvolvedContract {
  /** The contract the file loads with: configured columns, every stored version's, and this file's. */
  readonly pipeline: Pipeline;
  /** The version this file created, when it added columns. */
  readonly change?: ContractChange;
}

/** The stored versions and the table's live column types (as format_type spells them), in one round trip. */
interface Evolution {
  readonly versions: readonly ContractVersion[];
  readonly live: Readonly<Record<string, string>>;
}

/**
 * The contract `source` loads with under `onDrift: evolve`, adding (under the table's evolve lock, in the
 * transaction `client` is in) the columns the file has and the contract lacks.
 */
export async function evolveContract(
  client: PoolClient,
  pipeline: Pipeline,
  source: ObjectSource,
  ingestionId: string,
): Promise<EvolvedContract> {
  // The stored versions are asked for while the file's header is read: the query's round trip costs nothing.
  const asked = readEvolution(client, pipeline);
  // Settled here so that a header that cannot be read does not leave the query's failure unhandled.
  asked.catch(() => {});
  const { sampleSource } = await loadSampler();
  // The header (a Parquet schema, a sheet's header row) first: most files add nothing and read no more.
  let header: Sample | undefined;
  let unread: unknown;
  try {
    header = await sampleSource(source, sampleOptionsFor(pipeline, 0));
  } catch (error) {
    unread = error;
  }
  let evolution = await asked;
  let current = await checkedContract(client, pipeline, evolution);
  if (header === undefined) {
    // An empty file adds nothing: the load says so in its own words (`nothing to load`).
    if (unread instanceof FormatError && unread.code === 'empty_file') return { pipeline: current };
    throw unread;
  }
  let sample: Sample = header;
  const full = async () => {
    if (sample.rows === 0 && !sample.complete)
      sample = await sampleSource(source, sampleOptionsFor(pipeline, CONTRACT_SAMPLE_ROWS));
    return sample;
  };
  // A JSON record's fields are the record's own: the fields of the first records are the file's columns.
  if (sample.format === 'json' || sample.format === 'ndjson') await full();
  const added = (contract: Pipeline) =>
    unexpectedFields(
      sample.fields.map((field) => field.name),
      contract.columns,
    ).filter((name) => name.trim() !== '');
  if (added(current).length === 0) return { pipeline: current };

  // Files adding columns take turns; the one that waited finds what the one before it added.
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [evolveLockKey(pipeline)]);
  evolution = await readEvolution(client, pipeline);
  current = await checkedContract(client, pipeline, evolution);
  const fresh = new Set(added(current));
  if (fresh.size === 0) return { pipeline: current };

  const { inferColumns } = await import('../infer/infer.js');
  const sampled = await full();
  const inferred = inferColumns({
    ...sampled,
    fields: sampled.fields.filter((field) => fresh.has(field.name)),
  })
    // A Parquet column of a type Inlet cannot read stays out, as ignoreExtra leaves it (the ledger lists it).
    .filter((column) => column.skip === undefined);
  if (inferred.length === 0) return { pipeline: current };
  const taken = new Set([...current.columns.map((column) => column.name), ...Object.keys(evolution.live)]);
  const columns: EvolvedColumn[] = [];
  const adopted: string[] = [];
  for (const column of inferred) {
    const declared = sampled.fields.some(
      (field) => field.name === column.source && field.declared !== undefined,
    );
    let type = declared ? column.type : roomy(column.type);
    let name = column.name;
    const live = evolution.live[name];
    // A table column of that name that no contract column loads: used, with its own type, if that is of the
    // kind inferred (a cast into another kind would be silent).
    if (live !== undefined && !current.columns.some((c) => c.name === name)) {
      const inferredType = parseColumnType(type);
      const liveType = parseColumnType(live);
      if (
        typeof inferredType === 'string' ||
        typeof liveType === 'string' ||
        !loadableTypes(inferredType).includes(baseTypeOf(live))
      ) {
        throw new DatabaseError(
          'evolve_type_conflict',
          `The file adds column "${column.source}" to pipeline "${pipeline.name}" as "${name}" ${type}, but table ${pipeline.table.schema}.${pipeline.table.name} already has a column "${name}" of type ${live}, which the contract does not name. Nothing was loaded. List the column in the pipeline's columns with the table's type (or rename or drop the table's column); then send the file again.`,
        );
      }
      type = liveType.sql;
      adopted.push(name);
    } else name = freeName(name, taken);
    taken.add(name);
    columns.push({
      name,
      type,
      source: column.source,
      ...(column.format === undefined ? {} : { format: column.format }),
    });
  }
  const toAdd = columns.filter((column) => !adopted.includes(column.name));
  const ddl =
    toAdd.length === 0
      ? ''
      : `ALTER TABLE ${quoteTable(pipeline.table)} ${toAdd
          .map((column) => `ADD COLUMN ${quoteIdent(column.name)} ${sqlType(column)}`)
          .join(', ')}`;
  if (ddl !== '') await client.query(ddl);
  const version = (evolution.versions.at(-1)?.version ?? 1) + 1;
  const { rows } = await client.query<Parameters<typeof versionOf>[0]>(
    `INSERT INTO inlet.contract_versions (pipeline, version, target_table, columns, ddl, ingestion_id, source_uri)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     RETURNING version, target_table, columns, ddl, ingestion_id, source_uri, created_at`,
    [pipeline.name, version, tableName(pipeline), JSON.stringify(columns), ddl, ingestionId, source.uri],
  );
  const stored = versionOf(rows[0] as Parameters<typeof versionOf>[0]);
  return {
    pipeline: withEvolvedColumns(pipeline, [...evolution.versions, stored]),
    change: { version, columns, ddl },
  };
}

/**
 * The lock evolving files take turns on: the table's, not the pipeline's, so that two pipelines loading one
 * table do not both add a column (the second finds it and uses it). Taken after the `infer: true` lock of the
 * pipeline's first file, never before it.
 */
export function evolveLockKey(pipeline: Pipeline): string {
  return `inlet.evolve:${quoteTable(pipeline.table)}`;
}

let sampler: Promise<typeof import('../infer/sample.js')> | undefined;

/** The sampler, imported once (every import() call resolves the specifier again, for each file). */
function loadSampler(): Promise<typeof import('../infer/sample.js')> {
  sampler ??= import('../infer/sample.js');
  return sampler;
}

async function readEvolution(client: PoolClient, pipeline: Pipeline): Promise<Evolution> {
  const { rows } = await client.query<{
    versions: Parameters<typeof versionOf>[0][];
    live: Record<string, string>;
  }>(
    `SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('version', version, 'target_table', target_table, 'columns', columns, 'ddl', ddl,
                       'ingestion_id', ingestion_id, 'source_uri', source_uri, 'created_at', created_at) ORDER BY version), '[]')
               FROM inlet.contract_versions WHERE pipeline = $1) AS versions,
            (SELECT coalesce(jsonb_object_agg(attname, format_type(atttypid, atttypmod)), '{}')
               FROM pg_attribute WHERE attrelid = to_regclass($2) AND attnum > 0 AND NOT attisdropped) AS live`,
    [pipeline.name, quoteTable(pipeline.table)],
  );
  const row = rows[0];
  return {
    versions: (row?.versions ?? []).map((version) =>
      versionOf({ ...version, created_at: new Date(version.created_at) }),
    ),
    live: row?.live ?? {},
  };
}

/**
 * The contract with its stored versions' columns, once each of them is checked to be in the table with a type
 * it loads into (the configured ones were checked as the transaction began, ledger-entry.ts).
 */
async function checkedContract(
  client: PoolClient,
  pipeline: Pipeline,
  evolution: Evolution,
): Promise<Pipeline> {
  const contract = withEvolvedColumns(pipeline, evolution.versions);
  if (Object.keys(evolution.live).length === 0) return contract;
  const evolved = contract.columns.slice(pipeline.columns.length);
  const fits = evolved.every((column) => {
    const live = evolution.live[column.name];
    return live !== undefined && loadableTypes(column.type).includes(baseTypeOf(live));
  });
  if (fits) return contract;
  const mismatch = await tableMismatch(client, contract);
  if (mismatch !== undefined) throw mismatch;
  return contract;
}

/** `name`, or `name_2`, `name_3`… when a contract or table column has it (within PostgreSQL's 63 bytes). */
function freeName(name: string, taken: ReadonlySet<string>): string {
  let candidate = name;
  for (let n = 2; taken.has(candidate) && n < 10_000; n++) {
    const suffix = `_${n}`;
    candidate = `${name.slice(0, MAX_IDENTIFIER_BYTES - suffix.length)}${suffix}`;
  }
  return candidate;
}

/**
 * The type inference gives a column is the narrowest its sampled values fit (`smallint` for `3`,
 * `numeric(2,2)` for `0.15`): right for a contract a person reviews (`inlet infer`), wrong for one a file
 * decides alone, which would reject the next file's `40000` or `1.5`. An evolved column takes the widest
 * type of the same kind, which holds every value the narrow one would and most that come later; a Parquet
 * column keeps the type its file declares.
 */
function roomy(type: string): string {
  if (type === 'smallint' || type === 'integer') return 'bigint';
  if (type.startsWith('numeric')) return 'numeric';
  if (type === 'real') return 'double precision';
  if (type.startsWith('varchar')) return 'text';
  return type;
}

/** The type's canonical SQL; inference only proposes types Inlet reads, so another is a bug, never spliced in. */
function sqlType(column: EvolvedColumn): string {
  const type = parseColumnType(column.type);
  if (typeof type === 'string') {
    throw new InletError('internal', `inference proposed ${type} for column "${column.name}"`);
  }
  return type.sql;
}
