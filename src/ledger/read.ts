/**
 * Reading the ledger: the queries behind `inlet ingestions`, `inlet rejects` and the API's status routes,
 * so every front door shows an ingestion the same way.
 */
import type pg from 'pg';
import { InletError, UsageError } from '../errors.js';
import type { ContractChange } from '../model/ingestion.js';
import { csvRow } from './csv-export.js';

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
  /** The door the file came through, read from its source URI (doorOf). */
  door: Door;
  /** The SFTP user that put it, for the `sftp` door. */
  sftpUser?: string;
  error?: { code: string; message: string };
  /** The contract version this file created by adding columns (onDrift: evolve): its columns and DDL. */
  contractChange?: ContractChange;
  /** Where a front door handed the file to be loaded (src/serverless/hand-over-ledger.ts), and why. */
  handOver?: HandOverView;
}

/** `details.handOver` as the ledger records it: `task` (ECS), `child` (inlet dev), `server`. */
export interface HandOverView {
  ranOn: string;
  from?: string;
  reason?: string;
  attempt?: number;
  /** The ECS task ARN, or the child's pid. */
  runId?: string;
  at?: string;
}

/**
 * The doors a file comes through: `http` (the upload API, `upload:///`), `sftp` (the SFTP door,
 * `sftp://<user>/…`), `s3` (an S3 object: an event, or `inlet ingest s3://…`), `cli` (a local file given to
 * `inlet ingest`, `file://`); `other` for anything else (an unreadable spool entry's `spool:///`).
 */
export type Door = 'http' | 'sftp' | 's3' | 'cli' | 'other';

/** The door and (for SFTP) the user, read from a source URI: every door writes its own scheme. */
export function doorOf(sourceUri: string): { door: Door; sftpUser?: string } {
  if (sourceUri.startsWith('upload:')) return { door: 'http' };
  if (sourceUri.startsWith('s3:')) return { door: 's3' };
  if (sourceUri.startsWith('file:')) return { door: 'cli' };
  const sftp = /^sftp:\/\/([^/]+)\//.exec(sourceUri);
  if (sftp?.[1] !== undefined) return { door: 'sftp', sftpUser: sftp[1] };
  return { door: 'other' };
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
  /** Only ingestions after this one in the list's order (the `next` of the previous page). */
  before?: IngestionCursor | undefined;
}

/**
 * A position in the newest-first list: the sort key (`coalesce(finished_at, started_at, received_at)`,
 * in microseconds as PostgreSQL keeps it) and the id that breaks ties.
 */
export interface IngestionCursor {
  at: string | null;
  id: string;
}

export interface IngestionPage {
  rows: IngestionRow[];
  /** The cursor for the next page, or null when this page is the last. */
  next: IngestionCursor | null;
}

/** The ledger row's columns as IngestionRow names them: every read of whole rows selects these. */
export const INGESTION_COLUMNS = `id, pipeline, source_uri, status, rows_loaded, rows_rejected, bytes, content_sha256, duplicate_of,
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

/** The list's order; the ORDER BY expression is the one the ingestions_recent index is built on. */
const SORT_KEY = 'coalesce(finished_at, started_at, received_at)';
/** The sort key as text with all six fractional digits: a JavaScript Date would drop the microseconds. */
const SORT_KEY_TEXT = `to_char(${SORT_KEY} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * The query behind a page of the newest-first list (exported so tests can EXPLAIN it). Keyset
 * pagination: a page starts right after the cursor's (sort key, id), so pages neither repeat nor skip
 * rows however deep the history, and each page costs an index range scan rather than an OFFSET.
 * One row more than `limit` is fetched to learn whether another page follows.
 */
export function ingestionPageQuery(filter: IngestionFilter): { text: string; values: unknown[] } {
  const values: unknown[] = [filter.status ?? null, filter.pipeline ?? null, filter.pipelines ?? null];
  const where = [
    '($1::text IS NULL OR status = $1)',
    '($2::text IS NULL OR pipeline = $2)',
    '($3::text[] IS NULL OR pipeline = ANY($3))',
  ];
  const { before } = filter;
  if (before !== undefined) {
    values.push(before.id);
    if (before.at === null) {
      // NULL keys sort first (DESC): after one come the other NULL keys with a greater id, then all the rest.
      where.push(`(${SORT_KEY} IS NOT NULL OR id > $4::uuid)`);
    } else {
      values.push(before.at);
      where.push(`${SORT_KEY} <= $5::timestamptz`, `(${SORT_KEY} < $5::timestamptz OR id > $4::uuid)`);
    }
  }
  values.push(filter.limit + 1);
  return {
    text: `SELECT ${INGESTION_COLUMNS}, ${SORT_KEY_TEXT} AS sort_key FROM inlet.ingestions
            WHERE ${where.join(' AND ')}
            ORDER BY ${SORT_KEY} DESC, id
            LIMIT $${values.length}`,
    values,
  };
}

/** One page of the ledger, newest first. */
export async function pageIngestions(pool: pg.Pool, filter: IngestionFilter): Promise<IngestionPage> {
  if (filter.status !== undefined && !isLedgerStatus(filter.status)) {
    throw new UsageError(
      'invalid_argument',
      `unknown status "${filter.status}"; expected one of: ${LEDGER_STATUSES.join(', ')}`,
    );
  }
  let rows: (IngestionRow & { sort_key: string | null })[];
  try {
    rows = (await pool.query<IngestionRow & { sort_key: string | null }>(ingestionPageQuery(filter))).rows;
  } catch (error) {
    // A database Inlet never wrote to has no ledger yet: that is an empty list, not an error.
    if (isUndefinedTable(error)) return { rows: [], next: null };
    throw error;
  }
  const more = rows.length > filter.limit;
  const page = more ? rows.slice(0, filter.limit) : rows;
  const last = page.at(-1);
  return {
    rows: page.map(({ sort_key: _, ...row }) => row),
    next: more && last !== undefined ? { at: last.sort_key, id: last.id } : null,
  };
}

/** Newest first: the first page of pageIngestions(). */
export async function listIngestions(pool: pg.Pool, filter: IngestionFilter): Promise<IngestionRow[]> {
  return (await pageIngestions(pool, filter)).rows;
}

/** A cursor as the API hands it out: opaque, URL-safe. */
export function encodeCursor(cursor: IngestionCursor): string {
  return Buffer.from(JSON.stringify([cursor.at, cursor.id])).toString('base64url');
}

/** The cursor encodeCursor() made, or undefined for anything else. */
export function decodeCursor(text: string): IngestionCursor | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
  const [at, id] = parsed as unknown[];
  if (typeof id !== 'string' || !UUID.test(id)) return undefined;
  if (at !== null && (typeof at !== 'string' || !ISO_MICROS.test(at) || Number.isNaN(Date.parse(at)))) {
    return undefined;
  }
  return { at, id: id.toLowerCase() };
}

export async function getIngestion(pool: pg.Pool, id: string): Promise<IngestionRow | undefined> {
  if (!isIngestionId(id)) return undefined;
  try {
    const { rows } = await pool.query<IngestionRow>(
      `SELECT ${INGESTION_COLUMNS} FROM inlet.ingestions WHERE id = $1`,
      [id],
    );
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
    ...doorOf(row.source_uri),
    ...(row.error_code === null ? {} : { error: { code: row.error_code, message: row.error_message ?? '' } }),
    ...contractChangeOf(row.details),
    ...handOverOf(row.details),
  };
}

/** The hand-over a row's details record, when its ranOn is a string (anything else is not shown). */
function handOverOf(details: unknown): { handOver?: HandOverView } {
  const handOver = (details as { handOver?: Partial<HandOverView> } | null)?.handOver;
  if (typeof handOver?.ranOn !== 'string') return {};
  const view: HandOverView = { ranOn: handOver.ranOn };
  if (typeof handOver.from === 'string') view.from = handOver.from;
  if (typeof handOver.reason === 'string') view.reason = handOver.reason;
  if (typeof handOver.attempt === 'number') view.attempt = handOver.attempt;
  if (typeof handOver.runId === 'string') view.runId = handOver.runId;
  if (typeof handOver.at === 'string') view.at = handOver.at;
  return { handOver: view };
}

/** The contract change a loaded file's details record (ingest.ts writes it), as the view's field. */
function contractChangeOf(details: unknown): { contractChange?: ContractChange } {
  const change = (details as { contractChange?: ContractChange } | null)?.contractChange;
  return change === undefined ? {} : { contractChange: change };
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

/** One reject as a line of the rejects CSV, its cells in REJECT_CSV_HEADER's order. */
export function rejectCsvLine(reject: ReturnType<typeof rejectView>): string {
  return csvRow([reject.line, reject.record, reject.column, reject.value, reject.reason]);
}

export function isUndefinedTable(error: unknown): boolean {
  return (error as { code?: unknown }).code === '42P01';
}
