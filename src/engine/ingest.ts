import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { PoolClient } from 'pg';
import { isRetryable, toDatabaseError } from '../db/errors.js';
import { FormatError, InletError } from '../errors.js';
import { type DecodedSource, SourceDecoder } from '../formats/decode.js';
import { type ConcreteFormat, detectFormat } from '../formats/detect.js';
import { openRandomAccess } from '../formats/random-access.js';
import type { TableReader } from '../formats/table.js';
import { TextDecoding } from '../formats/text-encoding.js';
import type { CsvOptions, Pipeline } from '../model/contract.js';
import type { ContractChange, IngestResult, ObjectSource, RejectRecord } from '../model/ingestion.js';
import { silentLogger } from '../observability/logger.js';
import { withConnection } from './connection.js';
import { CopyLoader } from './copy-loader.js';
import { createTargetTable } from './create-table.js';
import { planColumns } from './encode/columns.js';
import { type CsvDialect, encodeCsv } from './encode/csv.js';
import { DriftError } from './encode/drift.js';
import { RowWriter } from './encode/encoder.js';
import { encodeJson } from './encode/json.js';
import { encodeTable } from './encode/table.js';
import { type FileUnit, ownTransaction } from './file-unit.js';
import { infersContract, withInferredContract } from './first-file-contract.js';
import type { IngestOptions } from './ingest-options.js';
import {
  findLoadedByContent,
  findNewerLoaded,
  findPrior,
  type PriorRecord,
  type SettledIngestion,
  writeLedger,
} from './ledger-entry.js';
import { mergeStaged, prepareTarget, rejectDuplicateKeys, usesStaging } from './merge.js';
import {
  describeReject,
  type IngestionContext,
  outcome,
  recordOutcome,
  refusal,
  withLocation,
} from './outcome.js';
import { insertRejects, REJECT_FLUSH_SIZE, RejectCollector } from './rejects.js';
import { ReplaceGuardError } from './replace-guard.js';
import { thresholdVerdict } from './threshold.js';

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
  const id = options.ingestionId ?? randomUUID();
  const context: IngestionContext = {
    id,
    source,
    pipeline,
    options,
    startedAt: new Date(),
    logger: (options.logger ?? silentLogger).child({
      ingestionId: id,
      pipeline: pipeline.name,
      source: source.uri,
    }),
  };
  const retry = options.retry ?? DEFAULT_RETRY;
  for (let attempt = 1; ; attempt++) {
    try {
      // An infer: true pipeline without columns gets its table with its contract, from its first file.
      if (pipeline.createTable && !infersContract(pipeline)) await ensureTable(options.pool, pipeline);
      const unit = ownTransaction(pipeline, source.uri);
      const result = await withClient(context, (client) => attemptIngest({ ...context, unit }, client));
      context.logger.info('ingestion finished', {
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
        context.logger.warn('database unavailable; retrying the file', {
          attempt,
          delayMs: Math.round(delay),
          error,
        });
        await sleep(delay);
        continue;
      }
      const failure = error instanceof InletError ? error : toDatabaseError(error, `loading ${source.uri}`);
      context.logger.error('ingestion failed', { error: failure });
      const result = outcome(context, 'failed', { error: { code: failure.code, message: failure.message } });
      await recordOutcome(context, result);
      return result;
    }
  }
}

/** Pipelines whose table is known to exist per pool, so CREATE TABLE IF NOT EXISTS runs once per process. */
const tablesReady = new WeakMap<pg.Pool, WeakSet<Pipeline>>();

export async function ensureTable(pool: pg.Pool, pipeline: Pipeline): Promise<void> {
  let ready = tablesReady.get(pool);
  if (ready?.has(pipeline)) return;
  await createTargetTable(pool, pipeline);
  if (ready === undefined) {
    ready = new WeakSet();
    tablesReady.set(pool, ready);
  }
  ready.add(pipeline);
}

/** Runs `work` on a pooled client (see connection.ts), which opens the unit of work (FileUnit.begin) and ends it. */
function withClient(
  context: IngestionContext,
  work: (client: PoolClient) => Promise<IngestResult>,
): Promise<IngestResult> {
  return withConnection(context.options.pool, work);
}

/** One file's ingestion and the unit of work its statements run in. */
export interface FileRun extends IngestionContext {
  readonly unit: FileUnit;
  /** The contract version this file adds (onDrift: evolve), committed with its rows. */
  readonly contractChange?: ContractChange;
}

/** Ends the file's unit of work without loading and records why (rejected, superseded, duplicate with a front-door id). */
async function endWithout(
  context: FileRun,
  client: PoolClient,
  result: IngestResult,
  details?: Record<string, unknown>,
): Promise<IngestResult> {
  await context.unit.abandon(client);
  return recordOutcome(context, result, details);
}

/**
 * One file, start to verdict, on `client`, in the unit of work `context.unit` opens: its own transaction, or
 * a savepoint in a batch's (ingest-batch.ts). Throws what the database or the source threw; the caller undoes
 * the unit of work.
 */
export async function attemptIngest(context: FileRun, client: PoolClient): Promise<IngestResult> {
  const { id, source, pipeline, options, unit } = context;
  await unit.begin(client);
  const prior =
    unit.prior ??
    (await findPrior(client, pipeline, source, {
      settledId: options.dryRun ? undefined : options.ingestionId,
      skipChecks: !options.force,
    }));
  const settled = prior.settled && settledOutcome(context, prior.settled);
  if (settled) {
    await unit.abandon(client);
    return settled;
  }
  const skipped = options.force ? undefined : await skipBeforeReading(context, client, prior);
  if (skipped) return endWithout(context, client, skipped);

  // The row that rejected rows reference, written with the first of them: no other session sees it before
  // COMMIT, when the verdict's row replaces it, so a file without rejects saves the statement.
  let processingRow = false;
  const ledger: LoadLedger = {
    checkedSha256: prior.checkedSha256,
    saveRejects: async (records) => {
      if (records.length === 0) return;
      if (!processingRow) {
        await writeLedger(client, {
          id,
          pipeline,
          source,
          status: 'processing',
          startedAt: context.startedAt,
        });
        processingRow = true;
      }
      await insertRejects(client, id, records);
    },
  };
  const rejects = new RejectCollector();
  let decoder: SourceDecoder | undefined;
  try {
    const contracted = await contractFor(context, client);
    decoder = new SourceDecoder(await source.open(), {
      ...pipeline.limits,
      source: source.uri,
      name: source.name,
      compression: pipeline.compression ?? 'auto',
      format: pipeline.format,
    });
    return await loadRows(contracted, client, decoder, await decoder.open(), rejects, ledger);
  } catch (error) {
    if (!(error instanceof FormatError)) throw refusal(error, pipeline);
    return endWithout(
      context,
      client,
      outcome(context, 'rejected', {
        rowsRejected: rejects.total,
        bytes: decoder?.rawBytes ?? 0,
        error: { code: error.code, message: withLocation(error) },
        rejects: rejects.sample,
      }),
      // The diff, structured, so the API and `inlet ingestions` can show it beside the message.
      error instanceof DriftError ? { drift: error.drift } : undefined,
    );
  }
}

let evolveModule: Promise<typeof import('./evolve-contract.js')> | undefined;

/**
 * Loaded only for evolving pipelines (it reads the file's header, and infers types when columns are new),
 * and asked for once: every import() call resolves the specifier again.
 */
function loadEvolveContract(): Promise<typeof import('./evolve-contract.js')> {
  evolveModule ??= import('./evolve-contract.js');
  return evolveModule;
}

/**
 * The contract the file loads with: the configured one, the one its pipeline's first file decided
 * (`infer: true`), and under `onDrift: evolve` the columns stored versions and this file add.
 */
async function contractFor(context: FileRun, client: PoolClient): Promise<FileRun> {
  const { pipeline, source, id } = context;
  const decided = infersContract(pipeline)
    ? await withInferredContract(client, pipeline, source, id)
    : pipeline;
  if (decided.onDrift !== 'evolve') return decided === pipeline ? context : { ...context, pipeline: decided };
  const { evolveContract } = await loadEvolveContract();
  const evolved = await evolveContract(client, decided, source, id);
  return {
    ...context,
    pipeline: evolved.pipeline,
    ...(evolved.change === undefined ? {} : { contractChange: evolved.change }),
  };
}

/** The verdict a front door's id already has: handing the same ingestion over twice decides it once. */
function settledOutcome(context: IngestionContext, settled: SettledIngestion): IngestResult {
  context.logger.info('this ingestion was already decided; returning its recorded outcome', {
    status: settled.status,
  });
  return outcome(context, settled.status, {
    ...(settled.duplicateOf === null ? {} : { ingestionId: settled.duplicateOf }),
    rowsLoaded: settled.rowsLoaded,
    rowsRejected: settled.rowsRejected,
    bytes: settled.bytes,
    ...(settled.sha256 === null ? {} : { sha256: settled.sha256 }),
    ...(settled.error === undefined ? {} : { error: settled.error }),
  });
}

/** What loading the rows needs of the ledger besides the verdict's row. */
interface LoadLedger {
  /** The content hash asked about before reading (PriorRecord.checkedSha256). */
  readonly checkedSha256: string | undefined;
  /** Inserts rejected rows, writing the row they reference first if it is not written yet. */
  saveRejects(records: readonly RejectRecord[]): Promise<void>;
}

/** A duplicate known by version, ETag or a quick hash, or an object older than the one loaded. */
async function skipBeforeReading(
  context: FileRun,
  client: PoolClient,
  prior: PriorRecord,
): Promise<IngestResult | undefined> {
  const { source, pipeline } = context;
  const loaded =
    prior.loadedByVersion ??
    (prior.loadedOfSize ? await findLoadedBySameBytes(client, pipeline, source) : undefined);
  if (loaded !== undefined) return outcome(context, 'duplicate', { ingestionId: loaded });
  if (source.order === undefined || pipeline.mode === 'append') return undefined;
  const newer = await findNewerLoaded(client, pipeline, source.uri, source.order);
  if (newer === undefined) return undefined;
  return outcome(context, 'superseded', {
    error: {
      code: 'superseded',
      message: `A newer version of ${source.uri} (ingestion ${newer.id}) is already loaded; this older one is skipped.`,
    },
  });
}

/**
 * Called when a loaded ingestion of this URI had exactly this size: hashing the object first (a read at
 * disk or network speed) settles whether it is a duplicate before any row is parsed or copied:
 * re-running `inlet ingest` over a folder of loaded files costs a read, not a load.
 */
async function findLoadedBySameBytes(
  client: PoolClient,
  pipeline: Pipeline,
  source: ObjectSource,
): Promise<string | undefined> {
  const hash = createHash('sha256');
  for await (const chunk of await source.open()) hash.update(chunk as Buffer);
  return findLoadedByContent(client, pipeline, source.uri, hash.digest('hex'));
}

async function loadRows(
  context: FileRun,
  client: PoolClient,
  decoder: SourceDecoder,
  decoded: DecodedSource,
  rejects: RejectCollector,
  ledger: LoadLedger,
): Promise<IngestResult> {
  const { source, pipeline } = context;
  if (decoder.rawBytes === 0) {
    throw new FormatError('empty_file', 'The file is empty (0 bytes): there is nothing to load.', {
      location: { source: source.uri },
    });
  }
  const format = detectFormat(decoded.head, decoded.entryName ?? source.name, pipeline.format, source.uri);
  const table = await openTable(format, decoded, source, pipeline, context.options);
  try {
    return await loadPieces(context, client, decoder, decoded, rejects, format, table, ledger);
  } finally {
    await table?.close();
  }
}

/** Parquet and XLSX are read with random access (their index is at the end); the text formats stream. */
async function openTable(
  format: ConcreteFormat,
  decoded: DecodedSource,
  source: ObjectSource,
  pipeline: Pipeline,
  options: IngestOptions,
): Promise<TableReader | undefined> {
  if (format !== 'parquet' && format !== 'xlsx') return undefined;
  const input = await openRandomAccess(decoded, source);
  const limits = { source: source.uri, ...pipeline.limits };
  try {
    // Loaded on first use: a CSV-only deployment (and a Lambda cold start) never compiles these readers.
    return format === 'parquet'
      ? await (await import('../formats/parquet/reader.js')).openParquet(input, {
          ...limits,
          ...(options.parquetDecoder === undefined ? {} : { decoder: options.parquetDecoder }),
        })
      : await (await import('../formats/xlsx/reader.js')).openXlsx(input, {
          ...limits,
          ...(pipeline.xlsx === undefined ? {} : { options: pipeline.xlsx }),
        });
  } catch (error) {
    await input.close();
    throw error;
  }
}

async function loadPieces(
  context: FileRun,
  client: PoolClient,
  decoder: SourceDecoder,
  decoded: DecodedSource,
  rejects: RejectCollector,
  format: ConcreteFormat,
  table: TableReader | undefined,
  ledger: LoadLedger,
): Promise<IngestResult> {
  const { id, source, pipeline, options } = context;
  const plan = planColumns(pipeline, options.copyFormat ?? 'auto');
  const writer = new RowWriter(plan, rejects, usesStaging(pipeline));
  const loader = new CopyLoader(client, await prepareTarget(client, pipeline), plan.format);
  const dialect: CsvDialect = { preferred: format === 'tsv' ? '\t' : ',' };
  let text: TextDecoding | undefined;
  let pieces: AsyncIterable<Buffer>;
  if (table !== undefined) pieces = encodeTable(table, pipeline, writer, source.uri);
  else if (format === 'csv' || format === 'tsv') {
    text = new TextDecoding(pipeline.csv.encoding, { singleByteFallback: true, source: source.uri });
    const csv = csvOptionsFor(format, pipeline.csv);
    pieces = encodeCsv(text.decode(decoded.chunks), csv, pipeline, writer, source.uri, dialect);
  } else {
    // JSON must be UTF-8 (RFC 8259): only a UTF-16 byte order mark is read for it, never a guess.
    text = new TextDecoding('auto', { singleByteFallback: false, source: source.uri });
    pieces = encodeJson(
      text.decode(decoded.chunks),
      format as 'ndjson' | 'json',
      writer,
      source.uri,
      pipeline,
    );
  }

  let doomed = false;
  try {
    // PostgreSQL's round trip to accept the COPY overlaps the encoding of the first piece.
    loader.start();
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
      if (await loader.write(piece)) writer.out.recycle(piece);
      if (rejects.pendingCount >= REJECT_FLUSH_SIZE) {
        await loader.pause();
        await ledger.saveRejects(rejects.takePending());
      }
      options.onProgress?.({ bytes: decoder.rawBytes, rows: writer.stats.records, totalBytes: source.size });
    }
  } catch (error) {
    // A COPY left open would hold the connection: the ROLLBACK that follows would queue behind it forever.
    await loader.abort();
    throw error;
  }
  if (doomed) return rejectFile(context, client, rejects, writer.stats.records, decoder.rawBytes);
  await loader.pause();
  // A random-access reader may not have read the object to its end: the hash must cover every byte.
  await table?.finish();
  const sha256 = decoder.sha256;

  // Asked already, under the same lock, when the hash the source declared is the one read: a round trip saved.
  if (!options.force && ledger.checkedSha256 !== sha256) {
    const loaded = await findLoadedByContent(client, pipeline, source.uri, sha256);
    if (loaded !== undefined) {
      return endWithout(
        context,
        client,
        outcome(context, 'duplicate', { ingestionId: loaded, bytes: decoder.rawBytes, sha256 }),
      );
    }
  }
  if (usesStaging(pipeline) && pipeline.key.length > 0 && pipeline.duplicateKeys === 'reject') {
    await rejectDuplicateKeys(client, pipeline, rejects);
  }
  await ledger.saveRejects(rejects.takePending());
  if (thresholdVerdict(pipeline.rejects, rejects.total, writer.stats.records).rejected) {
    return rejectFile(context, client, rejects, writer.stats.records, decoder.rawBytes);
  }

  let rowsLoaded: number;
  try {
    // A replace pipeline's guard compares the rows the merge would insert with the rows the table holds.
    const guarded = options.forceReplace
      ? undefined
      : { stagedRows: writer.stats.good, rejectedRows: rejects.total };
    rowsLoaded = usesStaging(pipeline) ? await mergeStaged(client, pipeline, guarded) : writer.stats.good;
  } catch (error) {
    if (!(error instanceof ReplaceGuardError)) throw error;
    return endWithout(
      context,
      client,
      outcome(context, 'rejected', {
        rowsRejected: rejects.total,
        bytes: decoder.rawBytes,
        sha256,
        error: error.toJSON(),
        rejects: rejects.sample,
      }),
      { replaceGuard: error.report },
    );
  }
  await context.unit.commit(
    client,
    {
      id,
      pipeline,
      source,
      status: 'loaded',
      forced: options.force === true,
      sha256,
      bytes: decoder.rawBytes,
      rowsLoaded,
      rowsRejected: rejects.total,
      startedAt: context.startedAt,
      finishedAt: new Date(),
      details: {
        format,
        compression: decoded.compression,
        ...(decoded.entryName === undefined ? {} : { entry: decoded.entryName }),
        ...(table === undefined ? {} : { [format]: table.details }),
        ...(text === undefined ? {} : { encoding: text.encoding }),
        ...(dialect.delimiter === undefined ? {} : { delimiter: dialect.delimiter }),
        copyFormat: plan.format,
        records: writer.stats.records,
        ...(writer.drift === undefined ? {} : { drift: writer.drift }),
        ...(context.contractChange === undefined ? {} : { contractChange: context.contractChange }),
      },
    },
    options.dryRun === true,
  );
  return outcome(context, 'loaded', {
    rowsLoaded,
    rowsRejected: rejects.total,
    bytes: decoder.rawBytes,
    sha256,
    rejects: rejects.sample,
    ...(context.contractChange === undefined ? {} : { contractChange: context.contractChange }),
  });
}

/** For a TSV detected by extension while the pipeline kept the CSV default delimiter. */
function csvOptionsFor(format: 'csv' | 'tsv', csv: CsvOptions): CsvOptions {
  return format === 'tsv' && csv.delimiter === ',' ? { ...csv, delimiter: '\t' } : csv;
}

function rejectFile(
  context: FileRun,
  client: PoolClient,
  rejects: RejectCollector,
  records: number,
  bytes: number,
): Promise<IngestResult> {
  const verdict = thresholdVerdict(context.pipeline.rejects, rejects.total, records);
  const first = rejects.sample[0];
  return endWithout(
    context,
    client,
    outcome(context, 'rejected', {
      rowsRejected: rejects.total,
      bytes,
      error: {
        code: 'too_many_rejects',
        message: `${verdict.message}${first ? ` First problem: ${describeReject(first)}.` : ''}`,
      },
      rejects: rejects.sample,
    }),
  );
}
