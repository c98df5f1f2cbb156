import { DatabaseError } from '../errors.js';
import type { Pipeline } from '../model/contract.js';
import type { Queryable } from './reconcile/live-table.js';

/**
 * The error for a table that cannot take what its pipeline's contract loads, naming each column that differs
 * and `inlet plan`; undefined when the table matches or does not exist (PostgreSQL's own error says that).
 * Called only once a load has found the table out of date, so the reader is loaded only then.
 */
export async function tableMismatch(
  db: Queryable,
  pipeline: Pipeline,
  cause?: { readonly error: unknown; readonly sqlState: string },
): Promise<DatabaseError | undefined> {
  const { readLiveTable, loadMismatches } = await import('./reconcile/live-table.js');
  const live = await readLiveTable(db, pipeline.table);
  if (live === undefined) return undefined;
  const mismatches = loadMismatches(pipeline, live);
  if (mismatches.length === 0) return undefined;
  const table = `${pipeline.table.schema}.${pipeline.table.name}`;
  const columns = mismatches.map(({ column, problem }) => `column "${column}" ${problem}`).join('; ');
  return new DatabaseError(
    'table_mismatch',
    `The table ${table} does not match the contract of pipeline "${pipeline.name}": ${columns}. Nothing was loaded. Run inlet plan to see the DDL that brings the table to the contract, and inlet apply to run it (or fix the pipeline's columns); then send the file again.`,
    cause === undefined ? {} : { cause: cause.error, sqlState: cause.sqlState },
  );
}
