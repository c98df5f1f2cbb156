/**
 * The loop behind `inlet ingest`, `inlet validate` and the example load of `inlet dev`:
 * each file is opened, routed and ingested in turn, and every problem with one file becomes that
 * file's `failed` outcome so the others still run.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findPipeline, noPipelineMessage } from '../config/route.js';
import { ingest } from '../engine/ingest.js';
import { ConfigError, InletError, UsageError } from '../errors.js';
import type { InletConfig, Pipeline, TableName } from '../model/contract.js';
import type { IngestResult, ObjectSource } from '../model/ingestion.js';
import type { Logger } from '../observability/logger.js';
import { ObjectNotFoundError } from '../storage/errors.js';
import { filePathOf, fileSource } from '../storage/file-source.js';
import { type ObjectPin, objectSource, pinnedObjectSource } from '../storage/object-source.js';
import { openStore } from '../storage/open-store.js';
import type { Database } from './database.js';
import { debugEnabled } from './output.js';
import { createProgressBar } from './progress.js';
import { s3Connection } from './settings.js';

/** IngestResult, except that a file no pipeline took has none. */
export type FileResult = Omit<IngestResult, 'pipeline'> & { readonly pipeline: string | null };

export interface FileOutcome {
  /** The file as the user named it. */
  readonly display: string;
  readonly table: TableName | undefined;
  readonly result: FileResult;
  /** The contract or the command line was at fault (exit code 2), not the file. */
  readonly usageProblem: boolean;
}

export interface IngestFilesOptions {
  readonly config: InletConfig;
  readonly pipelineName?: string | undefined;
  readonly force?: boolean;
  /** Let a file shrink a replace pipeline's table past its `replace` guard (`inlet ingest --force`). */
  readonly forceReplace?: boolean;
  readonly dryRun?: boolean;
  /** The ledger id a front door assigned to the one file (`inlet ingest --ingestion-id`). */
  readonly ingestionId?: string;
  /** The version and/or ETag of the one s3:// object to read (`inlet ingest --version-id/--etag`). */
  readonly pin?: ObjectPin;
  /** Opened on first use: a run where no file matches a pipeline never starts a database. */
  readonly database: () => Promise<Database>;
  readonly logger: Logger;
  /** Show a progress bar on stderr for large files. */
  readonly progress: boolean;
  readonly onOutcome: (outcome: FileOutcome) => Promise<void>;
}

const PROGRESS_MIN_BYTES = 8 * 1024 * 1024;

export async function ingestFiles(
  paths: readonly string[],
  options: IngestFilesOptions,
): Promise<FileOutcome[]> {
  const outcomes: FileOutcome[] = [];
  for (const path of paths) {
    const outcome = await ingestOne(path, options);
    outcomes.push(outcome);
    await options.onOutcome(outcome);
  }
  return outcomes;
}

/** 2 when the config or command line was wrong anywhere, else 1 when any file did not load, else 0. */
export function exitCodeFor(outcomes: readonly FileOutcome[]): number {
  if (outcomes.some((outcome) => outcome.usageProblem)) return 2;
  return outcomes.some(
    (outcome) => outcome.result.status === 'rejected' || outcome.result.status === 'failed',
  )
    ? 1
    : 0;
}

async function ingestOne(path: string, options: IngestFilesOptions): Promise<FileOutcome> {
  let source: ObjectSource;
  try {
    source = await openSource(path, options.pin);
  } catch (error) {
    return failure(path, uriOf(path), undefined, error, options.logger);
  }
  const names = routeNames(path, source);
  const pipeline = findPipeline(options.config, names, options.pipelineName);
  if (pipeline === undefined) {
    const error = new InletError('no_pipeline', noPipelineMessage(options.config, names));
    return failure(path, source.uri, undefined, error, options.logger);
  }
  const db = await options.database();
  const bar =
    options.progress && (source.size ?? 0) > PROGRESS_MIN_BYTES ? createProgressBar(source.name) : undefined;
  try {
    const result = await ingest(source, pipeline, {
      pool: db.pool,
      logger: options.logger,
      ...(options.force ? { force: true } : {}),
      ...(options.forceReplace ? { forceReplace: true } : {}),
      ...(options.dryRun ? { dryRun: true } : {}),
      ...(options.ingestionId === undefined ? {} : { ingestionId: options.ingestionId }),
      ...(bar ? { onProgress: (progress) => bar.update(progress) } : {}),
    });
    return { display: path, table: pipeline.table, result, usageProblem: false };
  } catch (error) {
    return failure(path, source.uri, pipeline, error, options.logger);
  } finally {
    bar?.done();
  }
}

/**
 * The names `match` globs are tried against: an object's key; for a local file its path relative to the
 * working directory (shown first), as typed, and absolute — a file outside the working directory is
 * relative only through `..` segments, which no `**` crosses.
 */
export function routeNames(arg: string, source: ObjectSource): string[] {
  if (arg.startsWith('s3://')) return [source.name];
  const given = arg.startsWith('file://') ? filePathOf(arg) : arg;
  const typed = typeof given === 'string' ? given : given.toString('utf8');
  return [...new Set([source.name, typed, resolve(typed)])];
}

/** Local paths, file:// URIs, and s3://bucket/key objects streamed straight from S3 (INLET_S3_ENDPOINT for others). */
export async function openSource(arg: string, pin?: ObjectPin): Promise<ObjectSource> {
  if (arg.startsWith('file://')) return fileSource(filePathOf(arg));
  if (arg.startsWith('s3://')) {
    // Loaded for s3:// only: the S3 SDK is slow to load, and most runs read local files.
    const { S3ObjectStore } = await import('../storage/s3-store.js');
    const { store, bucket, key } = openStore(arg, { s3: () => new S3ObjectStore(s3Connection()) });
    if (pin !== undefined) return pinnedObjectSource(store, bucket, key, pin);
    const info = await store.head(bucket, key);
    if (info === undefined) throw new ObjectNotFoundError(arg);
    return objectSource(store, bucket, key, info);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) {
    throw new UsageError('unsupported_source', `${arg}: Inlet reads local files, file:// and s3:// URIs.`);
  }
  return fileSource(arg);
}

function uriOf(arg: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(arg) ? arg : pathToFileURL(resolve(arg)).href;
}

function failure(
  display: string,
  uri: string,
  pipeline: Pipeline | undefined,
  error: unknown,
  logger: Logger,
): FileOutcome {
  const inlet = error instanceof InletError;
  if (!inlet || debugEnabled())
    logger.error('ingest failed', { source: uri, error, stack: (error as Error).stack });
  return {
    display,
    table: pipeline?.table,
    usageProblem: error instanceof ConfigError || error instanceof UsageError,
    result: {
      source: uri,
      pipeline: pipeline?.name ?? null,
      status: 'failed',
      ingestionId: null,
      rowsLoaded: 0,
      rowsRejected: 0,
      bytes: 0,
      durationMs: 0,
      error: inlet
        ? { code: error.code, message: error.message }
        : { code: 'internal', message: (error as Error).message ?? String(error) },
      rejects: [],
    },
  };
}
