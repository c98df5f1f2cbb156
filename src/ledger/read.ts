/**
 * Reading the ledger: the queries behind `inlet ingestions`, `inlet rejects` and the API's status routes,
 * so every front door shows an ingestion the same way.
 */
import type pg from 'pg';
import { InletError, UsageError } from '../errors.js';

export const LEDGER_STATUSES = [
  'queued',
  'processing',
  'loaded',
  'duplicate',
  'superseded',
  'rejected',
  'failed',
] as const;
export type LedgerStatus = (typeof LEDGER_STATUSES)[number];

export interface IngestionRow {
  id: string;
  pipeline: string;
  source_uri: string;
  status: LedgerStatus;
  rows_loaded: string;
  rows_rejected: string;
  bytes: string | null;
  content_sha256: string | null;
  duplicate_of: string | null;
  received_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  error_code: string | null;
  error_message: string | null;
  details: unknown;
}

/** An ingestion as the API and `inlet ingestions --json` print it. */
export interface IngestionView {
  id: string;
  pipeline: string;
  source: string;
  status: LedgerStatus;
  rowsLoaded: number;
  rowsRejected: number;
  bytes: number | null;
  sha256: string | null;
  duplicateOf: string | null;
  receivedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** From upload (or S3 event) to commit: what a client waits. */
  lagMs: number | null;
  error?: { code: string; message: string };
}

export interface RejectRow {
  line: string | null;
  record: string | null;
  column_name: string | null;
  raw_value: string | null;
  reason: string;
}

export interface IngestionFilter {
  status?: string | undefined;
  pipeline?: string | undefined;
  /** Only these pipelines (a token's scope); undefined for all. */
  pipelines?: readonly string[] | undefined;
  limit: number;
}

const COLUMNS = `id, pipeline, source_uri, status, rows_loaded, rows_rejected, bytes, content_sha256, duplicate_of,
                 received_at, started_at, finished_at, error_code, error_message, details`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHORT_ID = /^[0-9a-f]{8}$/i;
/** Reject rows fetched per round trip: flat memory whatever the number of rejects. */
const REJECT_BATCH = 1000;

export function isLedgerStatus(value: string): value is LedgerStatus {
  return (LEDGER_STATUSES as readonly string[]).includes(value);
}

export function isIngestionId(value: string): boolean {
  return UUID.test(value);
}

/** Newest first; the ORDER BY expression is the one the ingestions_recent index is built on. */
export async function listIngestions(pool: pg.Pool, filter: IngestionFilter): Promise<IngestionRow[]> {
  if (filter.status !== undefined && !isLedgerStatus(filter.status)) {
    throw new UsageError(
      'invalid_argument',
      `unknown status "${filter.status}"; expected one of: ${LEDGER_STATUSES.join(', ')}`,
    );
  }
  try {
    const { rows } = await pool.query<IngestionRow>(
      `SELECT ${COLUMNS} FROM inlet.ingestions
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR pipeline = $2)
          AND ($4::text[] IS NULL OR pipeline = ANY($4))
        ORDER BY coalesce(finished_at, started_at, received_at) DESC, id
        LIMIT $3`,
      [filter.status ?? null, filter.pipeline ?? null, filter.limit, filter.pipelines ?? null],
    );
    return rows;
  } catch (error) {
    // A database Inlet never wrote to has no ledger yet: that is an empty list, not an error.
    if (isUndefinedTable(error)) return [];
    throw error;
  }
}

export async function getIngestion(pool: pg.Pool, id: string): Promise<IngestionRow | undefined> {
  if (!isIngestionId(id)) return undefined;
  try {
    const { rows } = await pool.query<IngestionRow>(`SELECT ${COLUMNS} FROM inlet.ingestions WHERE id = $1`, [
      id,
    ]);
    return rows[0];
  } catch (error) {
    if (isUndefinedTable(error)) return undefined;
    throw error;
  }
}

/**
 * A full id, or the 8 characters `inlet ingestions` shows (the id's end: the start of a time-ordered id is
 * shared by everything made in the same minute).
 */
export async function resolveIngestionId(pool: pg.Pool, given: string): Promise<string> {
  const id = given.toLowerCase();
  if (!UUID.test(id) && !SHORT_ID.test(id)) {
    throw new UsageError(
      'invalid_argument',
      `"${given}" is not an ingestion id: expected a UUID or the 8 characters \`inlet ingestions\` shows`,
    );
  }
  let rows: { id: string }[];
  try {
    const query = UUID.test(id)
      ? { text: 'SELECT id FROM inlet.ingestions WHERE id = $1', values: [id] }
      : { text: `SELECT id FROM inlet.ingestions WHERE id::text LIKE '%' || $1 LIMIT 5`, values: [id] };
    rows = (await pool.query<{ id: string }>(query)).rows;
  } catch (error) {
    if (!isUndefinedTable(error)) throw error;
    rows = [];
  }
  const [first] = rows;
  if (first === undefined) {
    throw new InletError('not_found', `no ingestion ${given}; list recent ones with: inlet ingestions`);
  }
  if (rows.length > 1) {
    const ids = rows.map((row) => row.id).join(', ');
    throw new UsageError('ambiguous_id', `"${given}" matches several ingestions (${ids}); give the full id`);
  }
  return first.id;
}

/** The 8 characters lists show for an id: its random end, unique in practice and accepted back. */
export function shortIngestionId(id: string | null | undefined): string {
  return id ? id.slice(-8) : '-';
}

export function ingestionView(row: IngestionRow): IngestionView {
  const durationMs =
    row.started_at && row.finished_at ? row.finished_at.getTime() - row.started_at.getTime() : null;
  const lagMs =
    row.received_at && row.finished_at ? row.finished_at.getTime() - row.received_at.getTime() : null;
  return {
    id: row.id,
    pipeline: row.pipeline,
    source: row.source_uri,
    status: row.status,
    rowsLoaded: Number(row.rows_loaded),
    rowsRejected: Number(row.rows_rejected),
    bytes: row.bytes === null ? null : Number(row.bytes),
    sha256: row.content_sha256,
    duplicateOf: row.duplicate_of,
    receivedAt: row.received_at?.toISOString() ?? null,
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    durationMs,
    lagMs,
    ...(row.error_code === null ? {} : { error: { code: row.error_code, message: row.error_message ?? '' } }),
  };
}

/** Streams an ingestion's rejects through a server-side cursor rather than loading them all at once. */
export async function eachReject(
  pool: pg.Pool,
  id: string,
  limit: number | null,
  visit: (row: RejectRow) => Promise<void> | void,
): Promise<void> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(
      `DECLARE rejects_cursor NO SCROLL CURSOR FOR
         SELECT line, record, column_name, raw_value, reason
           FROM inlet.rejects WHERE ingestion_id = $1
          ORDER BY record, line
          LIMIT $2`,
      [id, limit],
    );
    for (;;) {
      const { rows } = await client.query<RejectRow>(`FETCH ${REJECT_BATCH} FROM rejects_cursor`);
      for (const row of rows) await visit(row);
      if (rows.length < REJECT_BATCH) break;
    }
    await client.query('COMMIT');
  } catch (error) {
    failure = error as Error;
    throw error;
  } finally {
    // A connection left inside a failed transaction must not go back to the pool.
    client.release(failure);
  }
}

/** A reject as JSON: line and record as numbers. */
export function rejectView(row: RejectRow): {
  line: number | null;
  record: number | null;
  column: string | null;
  value: string | null;
  reason: string;
} {
  return {
    line: row.line === null ? null : Number(row.line),
    record: row.record === null ? null : Number(row.record),
    column: row.column_name,
    value: row.raw_value,
    reason: row.reason,
  };
}

export const REJECT_CSV_HEADER = ['line', 'record', 'column', 'value', 'reason'] as const;

export function isUndefinedTable(error: unknown): boolean {
  return (error as { code?: unknown }).code === '42P01';
}
