/**
 * The pipeline contract after validation and defaulting: what the engine works from.
 * The config loader (src/config) turns YAML into these; nothing else builds them by hand but tests.
 */
export type ScalarKind =
  | 'smallint'
  | 'integer'
  | 'bigint'
  | 'numeric'
  | 'real'
  | 'double precision'
  | 'boolean'
  | 'text'
  | 'varchar'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'uuid'
  | 'jsonb';

export interface ColumnType {
  readonly kind: ScalarKind;
  /** numeric(p,s): total significant digits. */
  readonly precision?: number;
  /** numeric(p,s): digits after the decimal point. */
  readonly scale?: number;
  /** varchar(n): maximum length in characters. */
  readonly length?: number;
  /** The canonical SQL spelling, e.g. `numeric(12,2)`, used in CREATE TABLE. */
  readonly sql: string;
}

export interface ColumnContract {
  /** Target column name (an identifier; always quoted in SQL). */
  readonly name: string;
  readonly type: ColumnType;
  /** Header name (CSV) or field name (JSON) the value comes from; defaults to `name`. */
  readonly source: string;
  readonly nullable: boolean;
  /** Raw input text used in place of an empty or missing value (then coerced like any input). */
  readonly default?: string;
  /** Parse format for dates, timestamps (e.g. `DD/MM/YYYY HH:mm`) or numbers (e.g. `1.234,56`). */
  readonly format?: string;
}

export type FormatName = 'auto' | 'csv' | 'tsv' | 'ndjson' | 'json' | 'parquet' | 'xlsx';
export type WriteMode = 'append' | 'upsert' | 'replace';

/** Text encodings of CSV/TSV files; formats/text-encoding.ts reads each into UTF-8. */
export const TEXT_ENCODINGS = ['utf8', 'utf16le', 'utf16be', 'windows1252', 'latin1'] as const;
export type TextEncoding = (typeof TEXT_ENCODINGS)[number];

export interface CsvOptions {
  /** One ASCII character, or `auto`: `,` `;` tab or `|`, whichever reads the file's header (formats/csv/dialect.ts). */
  readonly delimiter: string;
  readonly quote: string;
  /** Character that escapes a quote inside a quoted field; equal to `quote` means doubling (RFC 4180). */
  readonly escape: string;
  readonly header: boolean;
  /** `auto`: a byte order mark, else UTF-8 unless the first bytes past ASCII are not, then Windows-1252. */
  readonly encoding: 'auto' | TextEncoding;
}

/** Compression of the raw bytes: `auto` detects gzip, deflate and zip by magic bytes and brotli by a `.br` name. */
export type CompressionName = 'auto' | 'gzip' | 'deflate' | 'brotli' | 'zip' | 'none';

export interface XlsxOptions {
  /** Sheet name, or 1-based position in the workbook; default the first sheet. */
  readonly sheet?: string | number;
  /** 1-based row holding the column names; default 1. Rows above it are skipped. */
  readonly headerRow?: number;
}

export interface RejectPolicy {
  /** Largest tolerated share of rejected rows (0..1). */
  readonly maxRatio?: number;
  /** Largest tolerated number of rejected rows. */
  readonly maxRejects?: number;
}

/**
 * `mode: replace` refuses a file that would shrink a table holding rows below these (a truncated or
 * header-only export); `inlet ingest --force` allows it once, `{ minRows: 0, minRatio: 0 }` always.
 */
export interface ReplaceGuard {
  /** Fewest rows a file must load to replace a table that holds rows. */
  readonly minRows: number;
  /** Smallest share (0..1) of the rows the table holds now that a file must load. */
  readonly minRatio: number;
}

export const DEFAULT_REPLACE_GUARD: ReplaceGuard = { minRows: 1, minRatio: 0.5 };

export interface TableName {
  readonly schema: string;
  readonly name: string;
}

/** Pipeline names are typed on command lines, so they keep to lowercase letters, digits, "_" and "-". */
export const PIPELINE_NAME = /^[a-z0-9_-]+$/;

export interface Pipeline {
  readonly name: string;
  readonly match: readonly string[];
  readonly format: FormatName;
  /** Absent means `auto`. */
  readonly compression?: CompressionName;
  readonly csv: CsvOptions;
  /** Absent means the first sheet with its header in row 1. */
  readonly xlsx?: XlsxOptions;
  readonly table: TableName;
  readonly createTable: boolean;
  readonly mode: WriteMode;
  /** Present exactly when `mode` is `replace`. */
  readonly replace?: ReplaceGuard;
  readonly key: readonly string[];
  readonly columns: readonly ColumnContract[];
  readonly rejects: RejectPolicy;
  readonly duplicateKeys: 'last' | 'reject';
  /** IANA zone for timestamps without an offset going into timestamptz. */
  readonly timezone: string;
  /**
   * A file whose columns differ from the contract: `reject` (also spelt `freeze`) refuses it;
   * `ignoreExtra` skips columns the contract does not name and fills missing ones; `discardRow` does the
   * same but rejects each row that has a value in a column the contract does not name; `evolve` adds a
   * column the file has and the contract lacks to the table, nullable, in the file's transaction, as a new
   * contract version (src/engine/evolve-contract.ts), and fills missing ones as `ignoreExtra` does.
   */
  readonly onDrift: 'reject' | 'ignoreExtra' | 'discardRow' | 'evolve';
  readonly afterLoad: 'none' | 'tag' | 'move';
  /**
   * Objects whose expansion-aware size (src/serverless/fit.ts) is above this are handed from the Lambda
   * function to a container running the same engine; absent: INLET_LAMBDA_MAX_BYTES, else what the
   * function's timeout allows.
   */
  readonly maxLambdaBytes?: number;
  readonly infer: boolean;
  readonly limits: {
    /** Decompressed bytes past which a file is refused (gzip bombs). */
    readonly maxDecompressedBytes: number;
    /** Decompressed bytes per compressed byte past which a file is refused, checked as it streams. */
    readonly maxCompressionRatio: number;
  };
}

export interface RetentionPolicy {
  readonly last?: number;
  readonly daily?: number;
  readonly weekly?: number;
  readonly monthly?: number;
}

export interface InletConfig {
  readonly pipelines: readonly Pipeline[];
  readonly snapshots?: { readonly schedule?: string; readonly retention?: RetentionPolicy };
}

export const DEFAULT_CSV: CsvOptions = {
  delimiter: 'auto',
  quote: '"',
  escape: '"',
  header: true,
  encoding: 'auto',
};
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 ** 3;
/**
 * Ordinary CSV compresses 5–20×, very repetitive exports up to ~100×; deflate's own ceiling is about 1032×
 * and brotli's far higher, so anything past 200× is far more likely a bomb than data.
 */
export const DEFAULT_MAX_COMPRESSION_RATIO = 200;
