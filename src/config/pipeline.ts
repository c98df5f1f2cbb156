/**
 * Rules that relate several fields of one pipeline, and the defaulting that turns a parsed YAML
 * pipeline into the engine's Pipeline. Issues carry paths relative to the pipeline; zod prefixes
 * them with `pipelines[i]`.
 */

import { validateFormat } from '../engine/coerce/index.js';
import { isNumberType } from '../model/column-type.js';
import {
  type ColumnContract,
  type CsvOptions,
  DEFAULT_CSV,
  DEFAULT_MAX_COMPRESSION_RATIO,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DEFAULT_REPLACE_GUARD,
  type Pipeline,
  type RejectPolicy,
  type ReplaceGuard,
} from '../model/contract.js';
import type { RawColumn, RawCsvOptions, RawPipeline } from './pipeline-schema.js';

export interface IssueSink {
  addIssue(issue: { code: 'custom'; message: string; path: PropertyKey[] }): void;
}

const DELIMITED_FORMATS = new Set(['auto', 'csv', 'tsv']);

export function buildPipeline(raw: RawPipeline, ctx: IssueSink): Pipeline {
  const fail: Fail = (path, message) => ctx.addIssue({ code: 'custom', path, message });

  const csv = resolveCsv(raw, fail);
  const columns = resolveColumns(raw, fail);
  checkKey(raw, fail);
  const rejects = resolveRejects(raw, fail);
  const replace = resolveReplace(raw, fail);

  // Without a header a CSV's columns are positions, not names: nothing tells a new column from a moved one.
  if (raw.onDrift === 'evolve' && !csv.header && DELIMITED_FORMATS.has(raw.format)) {
    fail(
      ['onDrift'],
      'onDrift: evolve adds the columns a header names, and this pipeline reads CSV without one (csv.header: false): set header: true, or another onDrift',
    );
  }
  if (raw.xlsx !== undefined && raw.format !== 'xlsx' && raw.format !== 'auto') {
    fail(
      ['xlsx'],
      `xlsx options apply only to format xlsx or auto (this pipeline's format is ${raw.format})`,
    );
  }

  // Zod discards the value when issues were added, so building it from partly invalid input is harmless.
  const pipeline: Pipeline = {
    name: raw.name,
    match: raw.match,
    format: raw.format,
    ...(raw.compression === undefined ? {} : { compression: raw.compression }),
    csv,
    table: raw.table,
    createTable: raw.createTable,
    mode: raw.mode,
    ...(replace === undefined ? {} : { replace }),
    key: raw.key,
    columns,
    rejects,
    duplicateKeys: raw.duplicateKeys,
    timezone: raw.timezone,
    onDrift: raw.onDrift,
    afterLoad: raw.afterLoad,
    ...(raw.serverless?.maxLambdaBytes === undefined
      ? {}
      : { maxLambdaBytes: raw.serverless.maxLambdaBytes }),
    infer: raw.infer,
    limits: {
      maxDecompressedBytes: raw.limits?.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES,
      maxCompressionRatio: raw.limits?.maxCompressionRatio ?? DEFAULT_MAX_COMPRESSION_RATIO,
    },
    ...(raw.xlsx === undefined ? {} : { xlsx: raw.xlsx }),
  };
  return pipeline;
}

type Fail = (path: PropertyKey[], message: string) => void;

/** `tsv:` is accepted as the name of the same options, since options live under a key named after the format. */
function resolveCsv(raw: RawPipeline, fail: Fail): CsvOptions {
  if (raw.csv !== undefined && raw.tsv !== undefined) {
    fail(['tsv'], 'give the delimited-text options under csv: or tsv:, not both');
  }
  const block: RawCsvOptions | undefined = raw.csv ?? raw.tsv;
  const blockKey = raw.csv !== undefined ? 'csv' : 'tsv';
  if (block !== undefined && !DELIMITED_FORMATS.has(raw.format)) {
    fail(
      [blockKey],
      `${blockKey} options apply only to format csv, tsv or auto (this pipeline's format is ${raw.format})`,
    );
  }
  const quote = block?.quote ?? DEFAULT_CSV.quote;
  const options: CsvOptions = {
    delimiter: block?.delimiter ?? (raw.format === 'tsv' ? '\t' : DEFAULT_CSV.delimiter),
    quote,
    // Doubling the quote (RFC 4180) is the default escape whatever the quote character is.
    escape: block?.escape ?? quote,
    header: block?.header ?? DEFAULT_CSV.header,
    encoding: block?.encoding ?? DEFAULT_CSV.encoding,
  };
  if (options.quote === options.delimiter) {
    fail([blockKey, 'quote'], `must differ from the delimiter ${JSON.stringify(options.delimiter)}`);
  }
  if (options.escape === options.delimiter) {
    fail([blockKey, 'escape'], `must differ from the delimiter ${JSON.stringify(options.delimiter)}`);
  }
  return options;
}

function resolveColumns(raw: RawPipeline, fail: Fail): ColumnContract[] {
  if (raw.columns === undefined) {
    if (!raw.infer)
      fail(['columns'], 'required: list the target columns, or set infer: true to propose them');
    return [];
  }
  const firstIndex = new Map<string, number>();
  return raw.columns.map((column, index) => {
    const earlier = firstIndex.get(column.name);
    if (earlier === undefined) firstIndex.set(column.name, index);
    else fail(['columns', index, 'name'], `duplicate column "${column.name}" (also columns[${earlier}])`);
    return toContract(raw, column, index, fail);
  });
}

/**
 * Key columns are NOT NULL implicitly: a NULL never equals another, so a nullable key could not
 * identify a row. Saying `nullable: true` on one explicitly is refused rather than overridden.
 */
function toContract(raw: RawPipeline, column: RawColumn, index: number, fail: Fail): ColumnContract {
  const isKey = raw.key.includes(column.name);
  if (isKey && column.nullable === true) {
    fail(
      ['columns', index, 'nullable'],
      `key column "${column.name}" cannot be nullable; remove nullable: true`,
    );
  }
  // `decimalSeparator: ","` is the number format `1.234,56`; a column's own format wins over the pipeline's separator.
  const separator = decimalSeparatorOf(raw, column, index, fail);
  const format = column.format ?? (separator === ',' ? DECIMAL_COMMA_FORMAT : undefined);
  const contract: ColumnContract = {
    name: column.name,
    type: column.type,
    source: column.source ?? column.name,
    nullable: isKey ? false : (column.nullable ?? true),
    ...(column.default === undefined ? {} : { default: column.default }),
    ...(format === undefined ? {} : { format }),
  };
  if (contract.format !== undefined) {
    const problem = validateFormat(contract);
    if (problem !== undefined) fail(['columns', index, 'format'], problem);
  }
  return contract;
}

/** The layout `decimalSeparator: ","` stands for: a decimal comma, and dots between thousands if any. */
const DECIMAL_COMMA_FORMAT = '1.234,56';

/**
 * The column's decimal separator: its own, else the pipeline's for a number column. A column naming both
 * a separator and a format, or a separator on a column that holds no numbers, is refused.
 */
function decimalSeparatorOf(
  raw: RawPipeline,
  column: RawColumn,
  index: number,
  fail: Fail,
): '.' | ',' | undefined {
  const numeric = isNumberType(column.type);
  if (column.decimalSeparator !== undefined) {
    if (!numeric) {
      fail(
        ['columns', index, 'decimalSeparator'],
        `applies to number columns only (smallint, integer, bigint, numeric, real, double precision); this one is ${column.type.sql}`,
      );
    } else if (column.format !== undefined) {
      fail(
        ['columns', index, 'decimalSeparator'],
        `give either decimalSeparator or format (${JSON.stringify(column.format)}), not both: the format already names its decimal mark`,
      );
    }
    return column.decimalSeparator;
  }
  return numeric ? raw.decimalSeparator : undefined;
}

function checkKey(raw: RawPipeline, fail: Fail): void {
  if (raw.mode === 'upsert' && raw.key.length === 0) {
    fail(['key'], 'required when mode is upsert: list the columns that identify a row');
  }
  const names = raw.columns?.map((column) => column.name);
  raw.key.forEach((name, index) => {
    if (raw.key.indexOf(name) !== index) fail(['key', index], `"${name}" is listed twice`);
    else if (names !== undefined && !names.includes(name)) {
      fail(['key', index], `no column named "${name}"; columns: ${names.join(', ')}`);
    }
  });
}

/** An empty `rejects: {}` would mean "no limit", which nobody writes on purpose. */
function resolveRejects(raw: RawPipeline, fail: Fail): RejectPolicy {
  if (raw.rejects === undefined) return { maxRatio: 0 };
  const { maxRatio, maxRejects } = raw.rejects;
  if (maxRatio === undefined && maxRejects === undefined) {
    fail(['rejects'], 'set maxRatio (a share between 0 and 1) or maxRejects (a number of rows)');
  }
  return {
    ...(maxRatio === undefined ? {} : { maxRatio }),
    ...(maxRejects === undefined ? {} : { maxRejects }),
  };
}

/** Every replace pipeline is guarded (defaults on); the setting means nothing in the other modes. */
function resolveReplace(raw: RawPipeline, fail: Fail): ReplaceGuard | undefined {
  if (raw.mode !== 'replace') {
    if (raw.replace !== undefined) {
      fail(['replace'], `replace options apply only to mode: replace (this pipeline's mode is ${raw.mode})`);
    }
    return undefined;
  }
  return {
    minRows: raw.replace?.minRows ?? DEFAULT_REPLACE_GUARD.minRows,
    minRatio: raw.replace?.minRatio ?? DEFAULT_REPLACE_GUARD.minRatio,
  };
}
