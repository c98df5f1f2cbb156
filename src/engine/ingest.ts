import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { PoolClient } from 'pg';
import { isRetryable, sqlStateOf, toDatabaseError } from '../db/errors.js';
import { DatabaseError, describeLocation, FormatError, InletError } from '../errors.js';
import { SourceDecoder } from '../formats/decode.js';
import { detectFormat } from '../formats/detect.js';
import { type Logger, silentLogger } from '../observability/logger.js';
import type { CsvOptions, Pipeline } from './contract.js';
import { CopyLoader } from './copy-loader.js';
import { createTargetTable } from './create-table.js';
import { planColumns } from './encode/columns.js';
import { encodeCsv } from './encode/csv.js';
import { RowWriter } from './encode/encoder.js';
import { encodeJson } from './encode/json.js';
import {
  findLoadedByContent,
  findLoadedByVersion,
  findNewerLoaded,
  hasLoadedOfSize,
  lockObject,
  writeLedger,
} from './ledger.js';
import { mergeStaged, prepareTarget, rejectDuplicateKeys, usesStaging } from './merge.js';
import { insertRejects, REJECT_FLUSH_SIZE, RejectCollector } from './rejects.js';
import { thresholdVerdict } from './threshold.js';
import type { IngestOptions, IngestResult, IngestStatus, ObjectSource, RejectRecord } from './types.js';

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** About 20 s of retrying: long enough for a PostgreSQL restart or failover, short enough to report. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 250, maxDelayMs: 5000 };

/** Once a file is known to be rejected, validation goes on only to show this many problems. */
const REJECTS_TO_SHOW = 20;

/**
 * Loads one object into its pipeline's table exactly once: the rows and the ledger row commit in one
 * transaction, or nothing does. Never throws for a bad file or a database outage: the result says
 * `rejected` (the file's fault) or `failed` (after retries, the environment's fault).
 */
export async function ingest(
  source: ObjectSource,
  pipeline: Pipeline,
  options: IngestOptions & { readonly retry?: RetryPolicy },
): Promise<IngestResult> {
  const startedAt = new Date();
  const id = options.ingestionId ?? randomUUID();
  const logger = (options.logger ?? silentLogger).child({
    ingestionId: id,
    pipeline: pipeline.name,
    source: source.uri,
  });
  const retry = options.retry ?? DEFAULT_RETRY;
  for (let attempt = 1; ; attempt++) {
    try {
      if (pipeline.createTable) await ensureTable(options.pool, pipeline);
      const result = await attemptIngest(source, pipeline, options, id, startedAt, logger);
      logger.info('ingestion finished', {
        status: result.status,
        rowsLoaded: result.rowsLoaded,
        rowsRejected: result.rowsRejected,
        durationMs: result.durationMs,
      });
      return result;
    } catch (error) {
      if (isRetryable(error) && attempt < retry.attempts) {
        const delay =
          Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        logger.warn('database unavailable; retrying the file', {
          attempt,
          delayMs: Math.round(delay),
          error,
        });
        await sleep(delay);
        continue;
      }
      const failure = error instanceof InletError ? error : toDatabaseError(error, `loading ${source.uri}`);
      logger.error('ingestion failed', { error: failure });
      const result = outcome(source, pipeline, 'failed', id, startedAt, {
        error: { code: failure.code, message: failure.message },
      });
      await recordOutcome(options, source, pipeline, id, startedAt, result, [], logger);
      return result;
    }
  }
}

/** Pipelines whose table is known to exist per pool, so CREATE TABLE IF NOT EXISTS runs once per process. */
const tablesReady = new WeakMap<pg.Pool, WeakSet<Pipeline>>();

async function ensureTable(pool: pg.Pool, pipeline: Pipeline): Promise<void> {
  let ready = tablesReady.get(pool);
  if (ready?.has(pipeline)) return;
  await createTargetTable(pool, pipeline);
  if (ready === undefined) {
    ready = new WeakSet();
    tablesReady.set(pool, ready);
  }
  ready.add(pipeline);
}

interface OutcomeFields {
  readonly rowsLoaded?: number;
  readonly rowsRejected?: number;
  readonly bytes?: number;
  readonly sha256?: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly rejects?: readonly RejectRecord[];
}

function outcome(
  source: ObjectSource,
  pipeline: Pipeline,
  status: IngestStatus,
  ingestionId: string | null,
  startedAt: Date,
  fields: OutcomeFields = {},
): IngestResult {
  return {
    source: source.uri,
    pipeline: pipeline.name,
    status,
    ingestionId,
    rowsLoaded: fields.rowsLoaded ?? 0,
    rowsRejected: fields.rowsRejected ?? 0,
    bytes: fields.bytes ?? 0,
    durationMs: Date.now() - startedAt.getTime(),
    ...(fields.sha256 === undefined ? {} : { contentSha256: fields.sha256 }),
    ...(fields.error === undefined ? {} : { error: fields.error }),
    rejects: fields.rejects ?? [],
  };
}

async function attemptIngest(
  source: ObjectSource,
  pipeline: Pipeline,
  options: IngestOptions,
  id: string,
  startedAt: Date,
  logger: Logger,
): Promise<IngestResult> {
  let client: PoolClient;
  try {
    client = await options.pool.connect();
  } catch (error) {
    throw toDatabaseError(error, 'connecting to PostgreSQL');
  }
  let broken: Error | undefined;
  // A connection lost while checked out is reported as an 'error' event; without a listener it
  // would crash the process instead of failing this attempt (which the retry loop then repeats).
  const onConnectionError = (error: Error) => {
    broken ??= error;
  };
  client.on('error', onConnectionError);
  let decoder: SourceDecoder | undefined;
  const rejects = new RejectCollector();
  try {
    await client.query('BEGIN');
    // Offset-less timestamps going into timestamptz are read in the pipeline's zone by PostgreSQL itself.
    await client.query(`SELECT set_config('TimeZone', $1, true)`, [pipeline.timezone]);
    await lockObject(client, pipeline, source.uri);

    if (!options.force) {
      const loaded =
        (await findLoadedByVersion(client, pipeline, source)) ??
        (await findLoadedBySameBytes(client, pipeline, source));
      if (loaded !== undefined) {
        await client.query('ROLLBACK');
        const result = outcome(source, pipeline, 'duplicate', loaded, startedAt);
        await recordOutcome(options, source, pipeline, id, startedAt, result, [], logger);
        return result;
      }
      if (source.order !== undefined && pipeline.mode !== 'append') {
        const newer = await findNewerLoaded(client, pipeline, source.uri, source.order);
        if (newer !== undefined) {
          await client.query('ROLLBACK');
          const result = outcome(source, pipeline, 'superseded', id, startedAt, {
            error: {
              code: 'superseded',
              message: `A newer version of ${source.uri} (ingestion ${newer.id}) is already loaded; this older one is skipped.`,
            },
          });
          await recordOutcome(options, source, pipeline, id, startedAt, result, [], logger, true);
          return result;
        }
      }
    }

    await writeLedger(client, {
      id,
      pipeline,
      source,
      status: 'processing',
      startedAt,
      forced: options.force === true,
    });
    const copySql = await prepareTarget(client, pipeline);
    decoder = new SourceDecoder(await source.open(), {
      maxDecompressedBytes: pipeline.limits.maxDecompressedBytes,
      source: source.uri,
    });
    const decoded = await decoder.open();
    if (decoder.rawBytes === 0) {
      throw new FormatError('empty_file', 'The file is empty (0 bytes): there is nothing to load.', {
        location: { source: source.uri },
      });
    }
    const format = detectFormat(decoded.head, source.name, pipeline.format, source.uri);
    const writer = new RowWriter(planColumns(pipeline), rejects, usesStaging(pipeline));
    const pieces =
      format === 'csv' || format === 'tsv'
        ? encodeCsv(decoded.chunks, csvOptionsFor(format, pipeline.csv), pipeline, writer, source.uri)
        : encodeJson(decoded.chunks, format === 'ndjson' ? 'ndjson' : 'json', writer, source.uri);

    const loader = new CopyLoader(client, copySql);
    let doomed = false;
    for await (const piece of pieces) {
      options.signal?.throwIfAborted();
      if (!doomed && thresholdVerdict(pipeline.rejects, rejects.total, writer.stats.records).early) {
        doomed = true;
        await loader.abort();
      }
      if (doomed) {
        if (rejects.sample.length >= REJECTS_TO_SHOW) break;
        continue;
      }
      await loader.write(piece);
      if (rejects.pendingCount >= REJECT_FLUSH_SIZE) {
        await loader.pause();
        await insertRejects(client, id, rejects.takePending());
      }
      options.onProgress?.({ bytes: decoder.rawBytes, rows: writer.stats.records, totalBytes: source.size });
    }
    if (doomed)
      return await rejectFile(
        client,
        options,
        source,
        pipeline,
        id,
        startedAt,
        rejects,
        writer.stats.records,
        decoder,
        logger,
      );
    await loader.pause();
    const sha256 = decoder.sha256;

    if (!options.force) {
      const loaded = await findLoadedByContent(client, pipeline, source.uri, sha256);
      if (loaded !== undefined) {
        await client.query('ROLLBACK');
        const result = outcome(source, pipeline, 'duplicate', loaded, startedAt, {
          bytes: decoder.rawBytes,
          sha256,
        });
        await recordOutcome(options, source, pipeline, id, startedAt, result, [], logger);
        return result;
      }
    }
    if (usesStaging(pipeline) && pipeline.key.length > 0 && pipeline.duplicateKeys === 'reject') {
      await rejectDuplicateKeys(client, pipeline, rejects);
    }
    await insertRejects(client, id, rejects.takePending());
    if (thresholdVerdict(pipeline.rejects, rejects.total, writer.stats.records).rejected) {
      return await rejectFile(
        client,
        options,
        source,
        pipeline,
        id,
        startedAt,
        rejects,
        writer.stats.records,
        decoder,
        logger,
      );
    }

    const rowsLoaded = usesStaging(pipeline) ? await mergeStaged(client, pipeline) : writer.stats.good;
    const result = outcome(source, pipeline, 'loaded', id, startedAt, {
      rowsLoaded,
      rowsRejected: rejects.total,
      bytes: decoder.rawBytes,
      sha256,
      rejects: rejects.sample,
    });
    await writeLedger(client, {
      id,
      pipeline,
      source,
      status: 'loaded',
      forced: options.force === true,
      sha256,
      bytes: decoder.rawBytes,
      rowsLoaded,
      rowsRejected: rejects.total,
      startedAt,
      finishedAt: new Date(),
      details: { format, compression: decoded.compression, records: writer.stats.records },
    });
    await client.query(options.dryRun ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    if (error instanceof FormatError) {
      const result = outcome(source, pipeline, 'rejected', id, startedAt, {
        rowsRejected: rejects.total,
        bytes: decoder?.rawBytes ?? 0,
        error: { code: error.code, message: withLocation(error) },
        rejects: rejects.sample,
      });
      await recordOutcome(options, source, pipeline, id, startedAt, result, rejects.sample, logger);
      return result;
    }
    if (isRetryable(error)) broken = error as Error;
    throw refusal(error, pipeline);
  } finally {
    client.off('error', onConnectionError);
    client.release(broken);
  }
}

/**
 * When a loaded ingestion of this URI had exactly this size, hashing the object first (a read at
 * disk or network speed) settles whether it is a duplicate before any row is parsed or copied:
 * re-running `inlet ingest` over a folder of loaded files costs a read, not a load.
 */
async function findLoadedBySameBytes(
  client: PoolClient,
  pipeline: Pipeline,
  source: ObjectSource,
): Promise<string | undefined> {
  if (source.size === undefined || !(await hasLoadedOfSize(client, pipeline, source.uri, source.size)))
    return undefined;
  const hash = createHash('sha256');
  for await (const chunk of await source.open()) hash.update(chunk as Buffer);
  return findLoadedByContent(client, pipeline, source.uri, hash.digest('hex'));
}

/** For a TSV detected by extension while the pipeline kept the CSV default delimiter. */
function csvOptionsFor(format: 'csv' | 'tsv', csv: CsvOptions): CsvOptions {
  return format === 'tsv' && csv.delimiter === ',' ? { ...csv, delimiter: '\t' } : csv;
}

function withLocation(error: InletError): string {
  const where = error.location ? describeLocation({ ...error.location, source: undefined }) : '';
  return where && !error.message.includes(where) ? `${error.message} (${where})` : error.message;
}

/** PostgreSQL refusing the rows (a constraint, a missing table) is the contract's or the table's problem: say which. */
function refusal(error: unknown, pipeline: Pipeline): unknown {
  if (error instanceof InletError || isRetryable(error)) return error;
  const state = sqlStateOf(error);
  const table = `${pipeline.table.schema}.${pipeline.table.name}`;
  const detail = (error as { detail?: string }).detail;
  const base = `${(error as Error).message}${detail ? ` (${detail})` : ''}`;
  const advice =
    state === '42P01'
      ? `Table ${table} does not exist: create it, or set createTable: true in pipeline "${pipeline.name}".`
      : state === '42703'
        ? `A contract column is missing from ${table}: add it to the table or fix the pipeline's columns.`
        : state === '42P10'
          ? `Upsert needs a primary key or unique index on (${pipeline.key.join(', ')}) in ${table}.`
          : state?.startsWith('23')
            ? `PostgreSQL refused the rows of this file for ${table}; nothing was loaded. Fix the data or the table's constraints.`
            : `Nothing was loaded.`;
  return new DatabaseError('database_refused', `${base}. ${advice}`, { cause: error, sqlState: state ?? '' });
}

async function rejectFile(
  client: PoolClient,
  options: IngestOptions,
  source: ObjectSource,
  pipeline: Pipeline,
  id: string,
  startedAt: Date,
  rejects: RejectCollector,
  records: number,
  decoder: SourceDecoder,
  logger: Logger,
): Promise<IngestResult> {
  await client.query('ROLLBACK');
  const verdict = thresholdVerdict(pipeline.rejects, rejects.total, records);
  const first = rejects.sample[0];
  const firstText = first
    ? ` First problem: ${describeLocation({ line: first.line, record: first.line === undefined ? first.record : undefined, column: first.column })}: ${first.reason}.`
    : '';
  const result = outcome(source, pipeline, 'rejected', id, startedAt, {
    rowsRejected: rejects.total,
    bytes: decoder.rawBytes,
    error: { code: 'too_many_rejects', message: `${verdict.message}${firstText}` },
    rejects: rejects.sample,
  });
  await recordOutcome(options, source, pipeline, id, startedAt, result, rejects.sample, logger);
  return result;
}

/**
 * Writes the ledger row of a file that did not load (rejected, failed, superseded, or a duplicate
 * the front door had already given an id), outside the rolled-back transaction, so that the
 * outcome and its first rejects can be looked up. A duplicate without a front-door id writes nothing.
 */
async function recordOutcome(
  options: IngestOptions,
  source: ObjectSource,
  pipeline: Pipeline,
  id: string,
  startedAt: Date,
  result: IngestResult,
  sample: readonly RejectRecord[],
  logger: Logger,
  always = false,
): Promise<void> {
  if (options.dryRun) return;
  if (result.status === 'duplicate' && options.ingestionId === undefined && !always) return;
  let client: PoolClient | undefined;
  try {
    client = await options.pool.connect();
    await client.query('BEGIN');
    await writeLedger(client, {
      id,
      pipeline,
      source,
      status: result.status,
      ...(result.status === 'duplicate' && result.ingestionId ? { duplicateOf: result.ingestionId } : {}),
      ...(result.contentSha256 === undefined ? {} : { sha256: result.contentSha256 }),
      bytes: result.bytes,
      rowsRejected: result.rowsRejected,
      startedAt,
      finishedAt: new Date(),
      ...(result.error === undefined ? {} : { error: result.error }),
    });
    await client.query('DELETE FROM inlet.rejects WHERE ingestion_id = $1', [id]);
    await insertRejects(client, id, sample);
    await client.query('COMMIT');
  } catch (error) {
    await client?.query('ROLLBACK').catch(() => {});
    logger.warn('could not record the outcome in the ledger', { status: result.status, error });
  } finally {
    client?.release();
  }
}
