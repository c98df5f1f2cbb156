/**
 * Whether an object fits the time a Lambda invocation has, decided before a byte is read: its size,
 * made expansion-aware, against the pipeline's `serverless.maxLambdaBytes`, else INLET_LAMBDA_MAX_BYTES,
 * else what the time left allows at a conservative throughput (docs/benchmarks.md, "Hand-over to a task").
 */
import type { Pipeline } from '../model/contract.js';

/**
 * Bytes per second the function is assumed to load at. The measured end-to-end figure is 46 MB/s for CSV on
 * two cores beside a local PostgreSQL (`BENCH_ONLY=load npm run bench`); a 1 GiB function has about 0.6 of a
 * core and reaches its database through RDS Proxy, and XLSX or Parquet load at 0.34–0.39x of CSV: 46 / 9,
 * rounded down.
 */
export const CONSERVATIVE_BYTES_PER_SECOND = 5_000_000;

/** The share of the time left that loading may plan to use; the rest is margin for a slow file. */
export const PLANNED_TIME_SHARE = 0.5;

/** A gzip, zlib, brotli or zip object expands this much, counted as what is read and parsed. */
export const COMPRESSED_EXPANSION = 8;

/** Parquet and XLSX are compressed inside and cost more to decode per byte than CSV. */
export const COLUMNAR_EXPANSION = 4;

const COMPRESSED_EXTENSION = /\.(gz|gzip|zip|br|deflate|zz)$/i;
const COLUMNAR_EXTENSION = /\.(parquet|xlsx)$/i;

/** The object's size as the work it costs: compressed objects count at their expected expansion. */
export function expansionAwareBytes(key: string, size: number, pipeline: Pipeline): number {
  const declared = pipeline.compression;
  const compressed =
    declared !== undefined && declared !== 'auto'
      ? declared !== 'none'
      : COMPRESSED_EXTENSION.test(key) && !/\.xlsx$/i.test(key);
  if (compressed) return size * COMPRESSED_EXPANSION;
  if (pipeline.format === 'parquet' || pipeline.format === 'xlsx' || COLUMNAR_EXTENSION.test(key)) {
    return size * COLUMNAR_EXPANSION;
  }
  return size;
}

/** Where the limit came from, for the ledger and the log. */
export type LimitSource = 'pipeline' | 'setting' | 'timeout';

export interface LambdaLimit {
  readonly bytes: number;
  readonly source: LimitSource;
}

/**
 * The limit for one object: the pipeline's, the global setting, or the time left (`remainingMs`, from
 * `context.getRemainingTimeInMillis()`); with none of them (a call outside Lambda), no limit.
 */
export function lambdaLimit(
  pipeline: Pipeline,
  globalMaxBytes: number | undefined,
  remainingMs: number | undefined,
): LambdaLimit | undefined {
  if (pipeline.maxLambdaBytes !== undefined) return { bytes: pipeline.maxLambdaBytes, source: 'pipeline' };
  if (globalMaxBytes !== undefined) return { bytes: globalMaxBytes, source: 'setting' };
  if (remainingMs === undefined) return undefined;
  return { bytes: defaultLambdaMaxBytes(remainingMs), source: 'timeout' };
}

/** 15 minutes give 2.25 GB; the default 5-minute timeout 750 MB. */
export function defaultLambdaMaxBytes(remainingMs: number): number {
  return Math.floor((remainingMs / 1000) * PLANNED_TIME_SHARE * CONSERVATIVE_BYTES_PER_SECOND);
}

export type FitVerdict =
  | { readonly fits: true }
  | { readonly fits: false; readonly bytes: number; readonly limit: LambdaLimit; readonly reason: string };

export function fitsLambda(
  key: string,
  size: number,
  pipeline: Pipeline,
  limit: LambdaLimit | undefined,
): FitVerdict {
  if (limit === undefined) return { fits: true };
  const bytes = expansionAwareBytes(key, size, pipeline);
  if (bytes <= limit.bytes) return { fits: true };
  const counted = bytes === size ? `${size} bytes` : `${size} bytes, counted as ${bytes} expanded`;
  return {
    fits: false,
    bytes,
    limit,
    reason: `the object (${counted}) is above the Lambda limit of ${limit.bytes} bytes (${describeSource(limit.source)})`,
  };
}

function describeSource(source: LimitSource): string {
  if (source === 'pipeline') return "the pipeline's serverless.maxLambdaBytes";
  if (source === 'setting') return 'INLET_LAMBDA_MAX_BYTES';
  return "what the function's remaining time allows";
}

/**
 * What the task can load at most of an object it must spool to its disk first (Parquet, XLSX, a zip): its
 * ephemeral storage, 20 GiB by default on Fargate, less room for the rest. INLET_TASK_MAX_BYTES overrides it.
 */
export const DEFAULT_TASK_MAX_BYTES = 18 * 1024 ** 3;

/** Parquet, XLSX and zip objects are read by random access, from a copy on disk when they are compressed. */
export function mustSpool(key: string, pipeline: Pipeline): boolean {
  return (
    pipeline.format === 'parquet' ||
    pipeline.format === 'xlsx' ||
    pipeline.compression === 'zip' ||
    /\.(parquet|xlsx|zip)$/i.test(key)
  );
}

/** Why an object is past every limit (too big for the function and for the task), or undefined. */
export function pastEveryLimit(
  key: string,
  size: number,
  pipeline: Pipeline,
  taskMaxBytes: number,
): string | undefined {
  if (!mustSpool(key, pipeline)) return undefined;
  const bytes = expansionAwareBytes(key, size, pipeline);
  if (bytes <= taskMaxBytes) return undefined;
  return (
    `The object (${size} bytes, counted as ${bytes} once spooled and expanded) is too big for the Lambda ` +
    `function and above the hand-over task's limit of ${taskMaxBytes} bytes (INLET_TASK_MAX_BYTES), the disk it ` +
    "spools Parquet, XLSX and zip objects to. Raise the task definition's ephemeral storage (up to 200 GiB) and " +
    'INLET_TASK_MAX_BYTES with it, or split the file; it is not retried.'
  );
}
