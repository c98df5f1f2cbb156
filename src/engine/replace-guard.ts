/**
 * The replace guard: in `mode: replace`, a file that would leave a table holding rows with far fewer of
 * them (a truncated or header-only export) is rejected instead of emptying the table. The rows are
 * compared in the load's own transaction, with the table locked, against the rows the file would
 * really load (after rejected rows and repeated keys).
 *
 * A table with no rows has nothing to lose: any file replaces it, a header-only one too.
 */
import type { PoolClient } from 'pg';
import { InletError } from '../errors.js';
import type { Pipeline, ReplaceGuard } from '../model/contract.js';

/** What the guard saw when it refused; kept in the ledger as `details.replaceGuard`. */
export interface ReplaceGuardReport {
  /** Rows the file would have loaded. */
  readonly fileRows: number;
  /** Rows the table held, exactly. */
  readonly tableRows: number;
  readonly minRows: number;
  readonly minRatio: number;
}

/** The file would shrink the table past the pipeline's `replace` setting; nothing was changed. */
export class ReplaceGuardError extends InletError {
  constructor(
    message: string,
    readonly report: ReplaceGuardReport,
  ) {
    super('replace_guard', message);
  }
}

/** Whether a file of `fileRows` rows may replace a table of `tableRows` rows. */
export function refuses(guard: ReplaceGuard, fileRows: number, tableRows: number): boolean {
  return tableRows > 0 && (fileRows < guard.minRows || fileRows < guard.minRatio * tableRows);
}

/**
 * How many of the table's rows to count (at most) to decide for any file of up to `maxFileRows` rows:
 * counting every row of a table much larger than the file is not needed, since past this many it is
 * refused whatever the file holds. Cost: about `maxFileRows / minRatio` rows read, never more than the
 * table. `undefined`: the guard refuses nothing, so nothing needs counting.
 */
export function rowsToCount(guard: ReplaceGuard, maxFileRows: number): number | undefined {
  if (guard.minRows === 0 && guard.minRatio === 0) return undefined;
  if (guard.minRatio === 0) return 1;
  // +2, not +1: a margin so that at the cap `refuses` holds without depending on floating-point rounding.
  return Math.min(Number.MAX_SAFE_INTEGER, Math.floor(maxFileRows / guard.minRatio) + 2);
}

/** The rows of `table` (a quoted name), counting no further than `limit`. */
export async function countRows(client: PoolClient, table: string, limit?: number): Promise<number> {
  const result = await client.query<{ n: string }>(
    limit === undefined
      ? `SELECT count(*) AS n FROM ${table}`
      : `SELECT count(*) AS n FROM (SELECT FROM ${table} LIMIT $1) AS held`,
    limit === undefined ? [] : [limit],
  );
  return Number(result.rows[0]?.n ?? 0);
}

const count = (n: number) => n.toLocaleString('en-US');
const rows = (n: number) => `${count(n)} ${n === 1 ? 'row' : 'rows'}`;

/** The refusal, saying what the guard saw, which rule it applied, and the two ways to allow it. */
export function replaceGuardError(
  pipeline: Pipeline,
  guard: ReplaceGuard,
  seen: { readonly fileRows: number; readonly tableRows: number; readonly rejectedRows: number },
): ReplaceGuardError {
  const { fileRows, tableRows, rejectedRows } = seen;
  const table = `${pipeline.table.schema}.${pipeline.table.name}`;
  const rejected =
    rejectedRows > 0 ? ` (${count(rejectedRows)} more ${rejectedRows === 1 ? 'was' : 'were'} rejected)` : '';
  const file = `the file has ${rows(fileRows)} to load${rejected}`;
  const shrink = `replacing would leave it with ${rows(fileRows)} instead of ${count(tableRows)}`;
  const what =
    fileRows === 0
      ? `${file}; the table ${table} holds ${rows(tableRows)}; replacing would remove them all`
      : fileRows < guard.minRows
        ? `${file}, fewer than minRows ${count(guard.minRows)}; the table ${table} holds ${rows(tableRows)}; ${shrink}`
        : `${file}, fewer than minRatio ${guard.minRatio} × the ${rows(tableRows)} the table ${table} holds ` +
          `(${count(Math.round(guard.minRatio * tableRows * 100) / 100)}); ${shrink}`;
  return new ReplaceGuardError(
    `Pipeline "${pipeline.name}" (mode: replace) refused this file: ${what}. Nothing was changed. ` +
      'If the file is complete and the table should shrink, load it once with `inlet ingest --force`, ' +
      `or set replace: { minRows: 0, minRatio: 0 } in pipeline "${pipeline.name}" to allow any size ` +
      `(now replace: { minRows: ${guard.minRows}, minRatio: ${guard.minRatio} }).`,
    { fileRows, tableRows, minRows: guard.minRows, minRatio: guard.minRatio },
  );
}
