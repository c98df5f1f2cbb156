import type { PoolClient } from 'pg';
import { isRetryable, sqlStateOf } from '../db/errors.js';
import type { ErrorReport } from '../error-codes/index.js';
import { DatabaseError, describeLocation, InletError } from '../errors.js';
import type { Pipeline } from '../model/contract.js';
import type {
  ContractChange,
  IngestResult,
  IngestStatus,
  ObjectSource,
  RejectRecord,
} from '../model/ingestion.js';
import type { Logger } from '../observability/logger.js';
import type { IngestOptions } from './ingest-options.js';
import { writeLedger } from './ledger-entry.js';
import { insertRejects } from './rejects.js';

/** What one ingestion is about; shared by the steps that report on it. */
export interface IngestionContext {
  readonly id: string;
  readonly source: ObjectSource;
  readonly pipeline: Pipeline;
  readonly options: IngestOptions;
  readonly startedAt: Date;
  readonly logger: Logger;
}

export interface OutcomeFields {
  readonly ingestionId?: string;
  readonly rowsLoaded?: number;
  readonly rowsRejected?: number;
  readonly bytes?: number;
  readonly sha256?: string;
  readonly error?: ErrorReport;
  readonly rejects?: readonly RejectRecord[];
  readonly contractChange?: ContractChange;
}

export function outcome(
  context: IngestionContext,
  status: IngestStatus,
  fields: OutcomeFields = {},
): IngestResult {
  return {
    source: context.source.uri,
    pipeline: context.pipeline.name,
    status,
    ingestionId: fields.ingestionId ?? context.id,
    rowsLoaded: fields.rowsLoaded ?? 0,
    rowsRejected: fields.rowsRejected ?? 0,
    bytes: fields.bytes ?? 0,
    durationMs: Date.now() - context.startedAt.getTime(),
    ...(fields.sha256 === undefined ? {} : { contentSha256: fields.sha256 }),
    ...(fields.error === undefined ? {} : { error: fields.error }),
    rejects: fields.rejects ?? [],
    ...(fields.contractChange === undefined ? {} : { contractChange: fields.contractChange }),
  };
}

/**
 * Writes the ledger row of a file that did not load (rejected, failed, superseded, or a duplicate
 * a front door had already given an id), outside the rolled-back transaction, so that the outcome
 * and its first rejects can be looked up. A duplicate without a front-door id writes nothing: the
 * ledger already holds the ingestion that loaded those bytes. Returns the result to report: `result`,
 * or a `failed` one when the row could not be written.
 */
export async function recordOutcome(
  context: IngestionContext,
  result: IngestResult,
  details?: Record<string, unknown>,
): Promise<IngestResult> {
  const { id, options, pipeline, source } = context;
  if (options.dryRun) return result;
  if (result.status === 'duplicate' && options.ingestionId === undefined) return result;
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
      startedAt: context.startedAt,
      finishedAt: new Date(),
      ...(result.error === undefined ? {} : { error: result.error }),
      ...(details === undefined ? {} : { details }),
    });
    await client.query('DELETE FROM inlet.rejects WHERE ingestion_id = $1', [id]);
    await insertRejects(client, id, result.rejects);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client?.query('ROLLBACK').catch(() => {});
    context.logger.warn('could not record the outcome in the ledger', { status: result.status, error });
    // A verdict nobody can look up must not end the file's delivery: front doors acknowledge a rejected or
    // superseded file as final, so report it as failed (retried) until the ledger takes the row.
    if (result.status === 'failed') return result;
    return outcome(context, 'failed', {
      bytes: result.bytes,
      error: {
        code: 'ledger_unwritable',
        message: `${source.uri} was ${result.status}, but the ledger could not record it (${
          (error as Error).message
        }); it will be tried again. Check that PostgreSQL is up and accepts writes to inlet.ingestions.`,
      },
    });
  } finally {
    client?.release();
  }
}

/** An InletError's message with its line/record/column appended when the message does not say them. */
export function withLocation(error: InletError): string {
  const where = error.location ? describeLocation({ ...error.location, source: undefined }) : '';
  return where && !error.message.includes(where) ? `${error.message} (${where})` : error.message;
}

/** "line 3, column "amount": not a number" for the first reject, to put in a rejected file's message. */
export function describeReject(reject: RejectRecord): string {
  const where = describeLocation({
    line: reject.line,
    record: reject.line === undefined ? reject.record : undefined,
    column: reject.column,
  });
  return `${where}: ${reject.reason}`;
}

/** PostgreSQL refusing the rows (a constraint, a missing table) is the contract's or the table's problem: say which. */
export function refusal(error: unknown, pipeline: Pipeline): unknown {
  if (error instanceof InletError || isRetryable(error)) return error;
  const state = sqlStateOf(error);
  const table = `${pipeline.table.schema}.${pipeline.table.name}`;
  const mismatch = tableMismatchOf(error, state, pipeline, table);
  if (mismatch !== undefined) return mismatch;
  const detail = (error as { detail?: string }).detail;
  const base = `${(error as Error).message}${detail ? ` (${detail})` : ''}`;
  const advice =
    state === '42P01'
      ? `Table ${table} does not exist: create it, or set createTable: true in pipeline "${pipeline.name}".`
      : state === '42P10'
        ? `Upsert needs a primary key or unique index on (${pipeline.key.join(', ')}) in ${table}.`
        : state === '0A000' && pipeline.mode === 'replace' && /truncate/i.test((error as Error).message)
          ? `mode: replace empties ${table} before it loads the file, and PostgreSQL cannot empty a table that another table refers to by a foreign key (nor would Inlet delete the rows that refer to it). Load this pipeline with mode: upsert instead, or remove the foreign key.`
          : state?.startsWith('23')
            ? `PostgreSQL refused the rows of this file for ${table}; nothing was loaded. Fix the data or the table's constraints.`
            : `Nothing was loaded.`;
  return new DatabaseError('database_refused', `${base}. ${advice}`, { cause: error, sqlState: state ?? '' });
}

/**
 * A table changed since the load's first statement checked it (table-shape.ts), or NOT NULL where the contract
 * allows empty values: the column named, and inlet plan, instead of PostgreSQL's words. The load's connection
 * is in an aborted transaction here, and may be a pool's only one (Lambda's): nothing more is asked of it.
 */
function tableMismatchOf(
  error: unknown,
  state: string | undefined,
  pipeline: Pipeline,
  table: string,
): DatabaseError | undefined {
  const fix = `Nothing was loaded. Run inlet plan to see the DDL that brings the table to the contract, and inlet apply to run it (or fix the pipeline's columns); then send the file again.`;
  const message = (error as Error).message ?? '';
  let problem: string | undefined;
  if (state === '42703') {
    const missing = pipeline.columns.find((column) => message.includes(`"${column.name}"`));
    problem = `column "${missing?.name ?? '?'}" is missing from the table`;
  } else if (state === '23502') {
    const name = (error as { column?: string }).column;
    const column = pipeline.columns.find((candidate) => candidate.name === name);
    if (name === undefined || (column !== undefined && !column.nullable)) return undefined;
    problem =
      column === undefined
        ? `column "${name}" is NOT NULL without a default in the table, and not in the contract`
        : `column "${name}" is NOT NULL in the table but nullable in the contract, and the file leaves it empty`;
  }
  if (problem === undefined) return undefined;
  return new DatabaseError(
    'table_mismatch',
    `The table ${table} does not match the contract of pipeline "${pipeline.name}": ${problem}. ${fix}`,
    { cause: error, sqlState: state ?? '' },
  );
}
