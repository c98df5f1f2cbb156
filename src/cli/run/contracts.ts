import { loadConfig } from '../../config/load.js';
import { findPipeline } from '../../config/route.js';
import {
  type ContractVersion,
  type InferredContract,
  readContractVersions,
  readInferredContract,
  tableName,
} from '../../engine/contract-versions.js';
import { isUndefinedTable, shortIngestionId } from '../../ledger/read.js';
import type { Pipeline } from '../../model/contract.js';
import { withDatabase } from '../database.js';
import { formatWhen, printable } from '../format.js';
import { cliLogger, colourEnabled, type Paint, paint, print } from '../output.js';
import { namedConfig } from '../settings.js';

interface ContractsOptions {
  config?: string;
  databaseUrl?: string;
  json?: boolean;
}

interface History {
  readonly inferred: InferredContract | undefined;
  readonly versions: readonly ContractVersion[];
}

export async function runContracts(name: string, options: ContractsOptions): Promise<number> {
  const configFile = namedConfig(options.config);
  const config = await loadConfig(configFile);
  const pipeline = findPipeline(config, '', name) as Pipeline;
  const history = await withDatabase(
    { databaseUrl: options.databaseUrl, logger: cliLogger() },
    async (db): Promise<History> => {
      try {
        const versions = await readContractVersions(db.pool, pipeline.name);
        const inferred =
          pipeline.columns.length === 0 ? await readInferredContract(db.pool, pipeline.name) : undefined;
        return { inferred, versions };
      } catch (error) {
        // A database Inlet never loaded into (not migrated yet) has no history: version 1 alone.
        if (isUndefinedTable(error)) return { inferred: undefined, versions: [] };
        throw error;
      }
    },
  );
  const lines = options.json
    ? jsonLines(pipeline, history, configFile)
    : textLines(pipeline, history, configFile ?? 'inlet.config.yaml', paint(colourEnabled(process.stdout)));
  for (const line of lines) await print(line);
  return 0;
}

function jsonLines(pipeline: Pipeline, history: History, configFile: string | undefined): string[] {
  const first = history.inferred
    ? {
        pipeline: pipeline.name,
        version: 1,
        origin: 'inferred',
        ingestionId: history.inferred.ingestionId,
        source: history.inferred.source,
        createdAt: history.inferred.createdAt.toISOString(),
        columns: history.inferred.columns,
      }
    : {
        pipeline: pipeline.name,
        version: 1,
        origin: 'configuration',
        ...(configFile === undefined ? {} : { config: configFile }),
        columns: pipeline.columns.map((column) => ({
          name: column.name,
          type: column.type.sql,
          source: column.source,
          nullable: column.nullable,
          ...(column.format === undefined ? {} : { format: column.format }),
        })),
      };
  return [
    JSON.stringify(first),
    ...history.versions.map((version) =>
      JSON.stringify({
        pipeline: pipeline.name,
        version: version.version,
        origin: 'ingestion',
        table: version.table,
        ingestionId: version.ingestionId,
        source: version.source,
        createdAt: version.createdAt.toISOString(),
        columns: version.columns,
        ddl: version.ddl,
      }),
    ),
  ];
}

function textLines(pipeline: Pipeline, history: History, configFile: string, colours: Paint): string[] {
  const count = 1 + history.versions.length;
  const lines = [
    colours.bold(
      `Contract of pipeline "${pipeline.name}" (table ${pipeline.table.schema}.${pipeline.table.name}, onDrift: ${pipeline.onDrift}): ${count} version${count === 1 ? '' : 's'}`,
    ),
    '',
  ];
  if (history.inferred !== undefined) {
    const { inferred } = history;
    lines.push(
      colours.bold(
        `version 1  ${formatWhen(inferred.createdAt)}  inferred by ingestion ${shortIngestionId(inferred.ingestionId)} from ${printable(inferred.source)}`,
      ),
      ...inferred.columns.map(
        (column) =>
          `  ${columnText(column.name, column.type, column.source)}${column.nullable ? '' : ' NOT NULL'}`,
      ),
    );
  } else if (pipeline.columns.length === 0) {
    lines.push(colours.bold('version 1  not decided yet: infer: true, the first file that loads decides it'));
  } else {
    lines.push(
      colours.bold(`version 1  the configuration (${printable(configFile)})`),
      ...pipeline.columns.map(
        (column) =>
          `  ${columnText(column.name, column.type.sql, column.source)}${column.nullable ? '' : ' NOT NULL'}`,
      ),
    );
  }
  for (const version of history.versions) {
    lines.push(
      '',
      colours.bold(
        `version ${version.version}  ${formatWhen(version.createdAt)}  added by ingestion ${shortIngestionId(version.ingestionId)} from ${printable(version.source)}`,
      ),
      ...(version.table === tableName(pipeline)
        ? []
        : [
            colours.dim(`  (added to table ${printable(version.table)}, which the pipeline no longer loads)`),
          ]),
      ...version.columns.map((column) => `  + ${columnText(column.name, column.type, column.source)}`),
      colours.dim(
        version.ddl === '' ? '  (no DDL: the table had the columns)' : `  ${printable(version.ddl)};`,
      ),
    );
  }
  if (history.versions.length === 0 && pipeline.onDrift !== 'evolve') {
    lines.push(
      '',
      colours.dim('With onDrift: evolve, a file that brings a new column adds it here as a new version.'),
    );
  }
  return lines;
}

/** `"discount_rate" numeric (from "Discount Rate")`: the source only when it differs from the name. */
function columnText(name: string, type: string, source: string): string {
  const from = source === name ? '' : ` (from ${JSON.stringify(printable(source))})`;
  return `${JSON.stringify(printable(name))} ${type}${from}`;
}
