import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { ErrorCode, ErrorReport } from '../error-codes/index.js';
import { InletError } from '../errors.js';
import type { Pipeline } from '../model/contract.js';
import type { IngestStatus, ObjectSource } from '../model/ingestion.js';
import { pgJson, pgText } from './pg-text.js';
import { tableMismatch } from './table-mismatch.js';
import { tableShapeCheck } from './table-shape.js';

/**
 * The ledger row and the loaded rows commit in one transaction; these are its statements.
 * Identity: (pipeline, source URI, content hash). Version id and ETag are only a fast first check.
 */

/**
 * Begins the transaction, sets its time zone to the pipeline's (offset-less timestamps going into timestamptz
 * are read in it by PostgreSQL itself) and takes a transaction-scoped lock per (pipeline, URI), so concurrent
 * deliveries of one object take turns: one round trip, for a small file one of the few it costs. Nothing
 * that reads the ledger may join this statement: its snapshot would be taken before the lock is granted, and
 * miss the verdict of the delivery it waited for.
 *
 * Two statements in one simple query, which takes no parameters: its only values are the lock's key, a
 * number computed here, the pipeline's time zone, from the configuration (checked to be a zone name
 * when it was read), and the contract's column names and types (table-shape.ts), quoted as literals; nothing
 * from the file or its name. The same statement checks that the table still has the contract's columns and
 * types, and a table out of date fails the file (table_mismatch) before a row is copied.
 */
export async function beginLocked(client: PoolClient, pipeline: Pipeline, uri: string): Promise<void> {
  await beginLockedAll(client, pipeline, [uri]);
}

/**
 * beginLocked for a batch of objects of one pipeline: the locks of all of them, taken in one statement in
 * ascending order of their keys, so that two batches sharing objects wait for each other rather than each
 * holding a lock the other needs.
 */
export async function beginLockedAll(
  client: PoolClient,
  pipeline: Pipeline,
  uris: readonly string[],
): Promise<void> {
  const keys = [...new Set(uris.map((uri) => lockKey(pipeline, uri)))].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const locks = keys.map((key) => `pg_advisory_xact_lock(${key.toString()}::bigint)`);
  const shape = tableShapeCheck(pipeline);
  const results = (await client.query(
    `BEGIN; SELECT set_config('TimeZone', ${client.escapeLiteral(pipeline.timezone)}, true), ${locks.join(', ')}${
      shape === undefined ? '' : `, ${shape} AS table_matches`
    }`,
  )) as unknown as { rows: { table_matches?: boolean }[] }[];
  if (shape === undefined || results[1]?.rows[0]?.table_matches !== false) return;
  // Out of date with the contract (or missing: then PostgreSQL's own error, as before, says so).
  const mismatch = await tableMismatch(client, pipeline);
  if (mismatch !== undefined) throw mismatch;
}

/** The advisory lock of one object of a pipeline. */
function lockKey(pipeline: Pipeline, uri: string): bigint {
  return createHash('sha256').update(pipeline.name).update('\u0000').update(uri).digest().readBigInt64BE(0);
}

/** What the ledger already says about an object, as far as it can be told before reading a byte. */
export interface PriorRecord {
  /**
   * The verdict already recorded under the front door's id (only when one was asked about): a front door
   * that hands the same ingestion over again (a worker resuming after a crash that came after COMMIT) gets
   * that verdict back instead of a second one that would overwrite it.
   */
  readonly settled: SettledIngestion | undefined;
  /**
   * The ingestion that loaded this object, judged by version id, ETag or the content hash the source declared
   * (only when skip checks were asked).
   */
  readonly loadedByVersion: string | undefined;
  /**
   * The content hash the source declared (`ObjectSource.sha256`) when the ledger was asked for a load of it
   * (only when skip checks were asked): none was found, or `loadedByVersion` names it.
   */
  readonly checkedSha256: string | undefined;
  /** Whether a loaded ingestion of this URI had exactly this size (only when skip checks were asked). */
  readonly loadedOfSize: boolean;
}

/**
 * Everything the ledger can say before the object is read, in one statement: for a small file each round
 * trip costs about as much as loading its rows (these were three). Run after beginLocked, in its transaction.
 */
export async function findPrior(
  client: PoolClient,
  pipeline: Pipeline,
  source: ObjectSource,
  ask: PriorQuestion,
): Promise<PriorRecord> {
  const [prior] = await findPriors(client, pipeline, [{ source, ask }]);
  if (prior === undefined)
    throw new InletError('internal', 'the ledger lookup before reading returned no row');
  return prior;
}

/** What findPrior asks of the ledger about one object. */
export interface PriorQuestion {
  /** The front door's id, whose recorded verdict is looked for. */
  readonly settledId: string | undefined;
  /** Whether to look for an earlier load of the same object (not with --force). */
  readonly skipChecks: boolean;
}

/**
 * findPrior for several objects of one pipeline in one statement, in their order: a batch of small files
 * asks once for all of them. Run under the locks of every one of them.
 */
export async function findPriors(
  client: PoolClient,
  pipeline: Pipeline,
  objects: readonly { readonly source: ObjectSource; readonly ask: PriorQuestion }[],
): Promise<PriorRecord[]> {
  // Nothing asked of any (forced loads with no front door's id): the statement's answer is known, so it is
  // not sent.
  if (objects.every(({ ask }) => ask.settledId === undefined && !ask.skipChecks)) {
    return objects.map(() => ({
      settled: undefined,
      loadedByVersion: undefined,
      checkedSha256: undefined,
      loadedOfSize: false,
    }));
  }
  const column = <T>(value: (source: ObjectSource, ask: PriorQuestion) => T) =>
    objects.map(({ source, ask }) => value(source, ask));
  const declared = (source: ObjectSource, ask: PriorQuestion) => (ask.skipChecks ? source.sha256 : undefined);
  const { rows } = await client.query<
    SettledRow & { loaded_by_version: string | null; loaded_of_size: boolean }
  >(
    `SELECT s.status, s.duplicate_of, s.rows_loaded, s.rows_rejected, s.bytes, s.content_sha256, s.error_code,
            s.error_message,
            (SELECT v.id FROM inlet.ingestions v
              WHERE q.by_version AND v.pipeline = $1 AND v.source_uri = q.uri AND v.status = 'loaded'
                AND (v.version_id = q.version_id
                     OR (v.version_id IS NULL AND q.version_id IS NULL AND v.etag = q.etag)
                     OR v.content_sha256 = q.sha256)
              ORDER BY v.finished_at DESC LIMIT 1) AS loaded_by_version,
            (q.size IS NOT NULL AND EXISTS (
              SELECT 1 FROM inlet.ingestions z
               WHERE z.pipeline = $1 AND z.source_uri = q.uri AND z.bytes = q.size AND z.status = 'loaded')) AS loaded_of_size
       FROM unnest($2::uuid[], $3::text[], $4::boolean[], $5::text[], $6::text[], $7::bigint[], $8::text[])
            WITH ORDINALITY AS q (settled_id, uri, by_version, version_id, etag, size, sha256, n)
       LEFT JOIN inlet.ingestions s
         ON s.id = q.settled_id AND s.status IN ('loaded', 'duplicate', 'superseded', 'rejected')
      ORDER BY q.n`,
    [
      pipeline.name,
      column((_, ask) => ask.settledId ?? null),
      column((source) => source.uri),
      column(
        (source, ask) =>
          ask.skipChecks &&
          (source.versionId !== undefined ||
            source.etag !== undefined ||
            declared(source, ask) !== undefined),
      ),
      column((source) => source.versionId ?? null),
      column((source) => source.etag ?? null),
      // With the content hash asked about, a load of the same size says nothing more.
      column((source, ask) =>
        ask.skipChecks && declared(source, ask) === undefined ? (source.size ?? null) : null,
      ),
      column((source, ask) => declared(source, ask) ?? null),
    ],
  );
  if (rows.length !== objects.length) {
    throw new InletError('internal', 'the ledger lookup before reading returned a row per object');
  }
  return rows.map((row, i) => ({
    settled:
      row.status === null ? undefined : toSettled(row as SettledRow & { status: SettledIngestion['status'] }),
    loadedByVersion: row.loaded_by_version ?? undefined,
    checkedSha256: declared(objects[i]?.source as ObjectSource, objects[i]?.ask as PriorQuestion),
    loadedOfSize: row.loaded_of_size,
  }));
}

export interface LoadedIngestion {
  readonly id: string;
  readonly sourceOrder: string | null;
}

export async function findLoadedByContent(
  client: PoolClient,
  pipeline: Pipeline,
  uri: string,
  sha256: string,
): Promise<string | undefined> {
  const result = await client.query<{ id: string }>(
    `SELECT id FROM inlet.ingestions
      WHERE pipeline = $1 AND source_uri = $2 AND content_sha256 = $3 AND status = 'loaded'
      ORDER BY finished_at DESC LIMIT 1`,
    [pipeline.name, uri, sha256],
  );
  return result.rows[0]?.id;
}

/**
 * Orders compare as numbers (decimal, or hexadecimal like S3's event sequencer) written in any width:
 * pad to equal length, then compare as text, as AWS documents for sequencers of one key.
 */
export function compareOrder(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const left = a.toUpperCase().padStart(width, '0');
  const right = b.toUpperCase().padStart(width, '0');
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The newest order already loaded for this object, when it is newer than `order`. */
export async function findNewerLoaded(
  client: PoolClient,
  pipeline: Pipeline,
  uri: string,
  order: string,
): Promise<LoadedIngestion | undefined> {
  const result = await client.query<{ id: string; source_order: string }>(
    `SELECT id, source_order FROM inlet.ingestions
      WHERE pipeline = $1 AND source_uri = $2 AND status = 'loaded' AND source_order IS NOT NULL`,
    [pipeline.name, uri],
  );
  let newest: LoadedIngestion | undefined;
  for (const row of result.rows) {
    if (
      compareOrder(row.source_order, order) > 0 &&
      (!newest || compareOrder(row.source_order, newest.sourceOrder ?? '') > 0)
    ) {
      newest = { id: row.id, sourceOrder: row.source_order };
    }
  }
  return newest;
}

export interface SettledIngestion {
  readonly status: 'loaded' | 'duplicate' | 'superseded' | 'rejected';
  readonly duplicateOf: string | null;
  readonly rowsLoaded: number;
  readonly rowsRejected: number;
  readonly bytes: number;
  readonly sha256: string | null;
  readonly error: ErrorReport | undefined;
}

interface SettledRow {
  status: SettledIngestion['status'] | null;
  duplicate_of: string | null;
  rows_loaded: string;
  rows_rejected: string;
  bytes: string | null;
  content_sha256: string | null;
  error_code: string | null;
  error_message: string | null;
}

function toSettled(row: SettledRow & { status: SettledIngestion['status'] }): SettledIngestion {
  return {
    status: row.status,
    duplicateOf: row.duplicate_of,
    rowsLoaded: Number(row.rows_loaded),
    rowsRejected: Number(row.rows_rejected),
    bytes: Number(row.bytes ?? 0),
    sha256: row.content_sha256,
    // writeLedger stores only catalogue codes, and migration 008 renamed the ones older versions stored.
    error:
      row.error_code === null
        ? undefined
        : { code: row.error_code as ErrorCode, message: row.error_message ?? '' },
  };
}

export interface LedgerEntry {
  readonly id: string;
  readonly pipeline: Pipeline;
  readonly source: ObjectSource;
  readonly status: IngestStatus | 'processing';
  readonly forced?: boolean;
  readonly duplicateOf?: string;
  readonly sha256?: string;
  readonly bytes?: number;
  readonly rowsLoaded?: number;
  readonly rowsRejected?: number;
  readonly startedAt: Date;
  readonly finishedAt?: Date;
  readonly error?: ErrorReport;
  readonly details?: unknown;
}

/**
 * Inserts the ledger row, or completes the one a front door created when it accepted the file. Its text
 * (the message, the details) is made storable here, the one place rows are written: it may quote a
 * file's bytes, and PostgreSQL refuses NUL in text and jsonb (see pg-text.ts).
 */
export async function writeLedger(client: PoolClient, entry: LedgerEntry): Promise<void> {
  await writeLedgers(client, [entry]);
}

const LEDGER_COLUMNS = 21;

/** writeLedger for several rows in one statement (a batch's verdicts), in their order. */
export async function writeLedgers(client: PoolClient, entries: readonly LedgerEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const values = entries.map((_, row) => {
    const p = Array.from({ length: LEDGER_COLUMNS }, (_, c) => `$${row * LEDGER_COLUMNS + c + 1}`);
    return `(${p.join(', ')})`;
  });
  await client.query(
    `INSERT INTO inlet.ingestions (id, pipeline, source_uri, version_id, etag, source_order, content_sha256, bytes,
        status, forced, duplicate_of, target_table, mode, rows_loaded, rows_rejected, received_at, started_at,
        finished_at, error_code, error_message, details)
     VALUES ${values.join(', ')}
     ON CONFLICT (id) DO UPDATE SET
        pipeline = EXCLUDED.pipeline, source_uri = EXCLUDED.source_uri, version_id = EXCLUDED.version_id,
        etag = EXCLUDED.etag, source_order = EXCLUDED.source_order, content_sha256 = EXCLUDED.content_sha256,
        bytes = EXCLUDED.bytes, status = EXCLUDED.status, forced = EXCLUDED.forced, duplicate_of = EXCLUDED.duplicate_of,
        target_table = EXCLUDED.target_table, mode = EXCLUDED.mode, rows_loaded = EXCLUDED.rows_loaded,
        rows_rejected = EXCLUDED.rows_rejected, received_at = coalesce(inlet.ingestions.received_at, EXCLUDED.received_at),
        started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, error_code = EXCLUDED.error_code,
        error_message = EXCLUDED.error_message,
        -- A Lambda's hand-over (src/serverless/hand-over-ledger.ts) stays in the verdict its runner writes.
        details = CASE WHEN inlet.ingestions.details ? 'handOver'
          THEN jsonb_build_object('handOver', inlet.ingestions.details->'handOver') || coalesce(EXCLUDED.details, '{}'::jsonb)
          ELSE EXCLUDED.details END`,
    entries.flatMap(ledgerValues),
  );
}

function ledgerValues(entry: LedgerEntry): unknown[] {
  const { pipeline, source } = entry;
  return [
    entry.id,
    pipeline.name,
    source.uri,
    source.versionId ?? null,
    source.etag ?? null,
    source.order ?? null,
    entry.sha256 ?? null,
    entry.bytes ?? null,
    entry.status,
    entry.forced ?? false,
    entry.duplicateOf ?? null,
    `${pipeline.table.schema}.${pipeline.table.name}`,
    pipeline.mode,
    entry.rowsLoaded ?? 0,
    entry.rowsRejected ?? 0,
    source.receivedAt ?? null,
    entry.startedAt,
    entry.finishedAt ?? null,
    entry.error === undefined ? null : pgText(entry.error.code),
    entry.error === undefined ? null : pgText(entry.error.message),
    entry.details === undefined ? null : JSON.stringify(pgJson(entry.details)),
  ];
}
