import type { PoolClient } from 'pg';
import { quoteIdent, quoteTable } from '../db/sql.js';
import { InletError } from '../errors.js';
import type { Pipeline } from '../model/contract.js';
import type { RejectCollector } from './rejects.js';
import { countRows, refuses, replaceGuardError, rowsToCount } from './replace-guard.js';

/**
 * Where COPY writes and how the rows reach the target table.
 * `append` copies straight into the target. `upsert` and `replace` copy into a temporary staging
 * table first, so the target is locked only for the final statement and duplicate keys can be
 * resolved in SQL; staging carries each row's record and line numbers for that.
 */
const STAGING = 'inlet_staging';
const RECORD = '__inlet_record';
const LINE = '__inlet_line';

export function usesStaging(pipeline: Pipeline): boolean {
  return pipeline.mode !== 'append';
}

export async function prepareTarget(client: PoolClient, pipeline: Pipeline): Promise<string> {
  const columns = pipeline.columns.map((c) => quoteIdent(c.name)).join(', ');
  if (!usesStaging(pipeline)) return `COPY ${quoteTable(pipeline.table)} (${columns}) FROM STDIN`;
  // Types only (no constraints): NOT NULL and keys were checked row by row, and the merge applies the rest.
  await client.query(
    `CREATE TEMP TABLE ${STAGING} ON COMMIT DROP AS SELECT ${columns} FROM ${quoteTable(pipeline.table)} WITH NO DATA`,
  );
  await client.query(`ALTER TABLE ${STAGING} ADD COLUMN ${RECORD} bigint, ADD COLUMN ${LINE} bigint`);
  return `COPY ${STAGING} (${columns}, ${RECORD}, ${LINE}) FROM STDIN`;
}

/** For `duplicateKeys: reject`: every row whose key appears more than once in the file is rejected. */
export async function rejectDuplicateKeys(
  client: PoolClient,
  pipeline: Pipeline,
  rejects: RejectCollector,
): Promise<number> {
  const keys = pipeline.key.map(quoteIdent);
  const keyList = keys.join(', ');
  const result = await client.query<{
    record: string;
    line: string | null;
    key: string;
    lines: (string | null)[];
  }>(
    `WITH repeated AS (
       SELECT ${keyList}, array_agg(${LINE} ORDER BY ${RECORD}) AS lines
         FROM ${STAGING} GROUP BY ${keyList} HAVING count(*) > 1)
     DELETE FROM ${STAGING} s USING repeated d
      WHERE ${keys.map((k) => `s.${k} = d.${k}`).join(' AND ')}
     RETURNING s.${RECORD} AS record, s.${LINE} AS line, d.lines, concat_ws(', ', ${keys.map((k) => `s.${k}::text`).join(', ')}) AS key`,
  );
  const rows = result.rows.sort((a, b) => Number(a.record) - Number(b.record));
  for (const row of rows) {
    const others = row.lines.filter((l) => l !== row.line).join(', ');
    rejects.add({
      line: row.line === null ? undefined : Number(row.line),
      record: Number(row.record),
      column: pipeline.key.join(', '),
      value: row.key,
      reason: `duplicate key (${pipeline.key.join(', ')})=(${row.key}) also on line ${others} (duplicateKeys: reject)`,
    });
  }
  return rows.length;
}

/** What the replace guard needs to know of the file; absent, the guard is off (`inlet ingest --force`). */
export interface GuardedReplace {
  /** Rows copied into staging: at least the rows the merge will insert. */
  readonly stagedRows: number;
  /** Rows of the file rejected so far, for the message. */
  readonly rejectedRows: number;
}

/**
 * Moves staged rows into the target; returns the number of rows inserted or updated. In replace mode,
 * with `guarded`, throws ReplaceGuardError when the pipeline's `replace` guard refuses the file; the
 * caller rolls back, so the table is as it was.
 */
export async function mergeStaged(
  client: PoolClient,
  pipeline: Pipeline,
  guarded?: GuardedReplace,
): Promise<number> {
  const target = quoteTable(pipeline.table);
  const names = pipeline.columns.map((c) => quoteIdent(c.name));
  const columns = names.join(', ');
  const keys = pipeline.key.map(quoteIdent);
  // With duplicateKeys: last, the row that comes last in the file wins.
  const rows =
    keys.length > 0
      ? `SELECT DISTINCT ON (${keys.join(', ')}) ${columns} FROM ${STAGING} ORDER BY ${keys.join(', ')}, ${RECORD} DESC`
      : `SELECT ${columns} FROM ${STAGING}`;
  if (pipeline.mode === 'replace') {
    return replaceAll(client, pipeline, `INSERT INTO ${target} (${columns}) ${rows}`, guarded);
  }
  const updates = names.filter((_, i) => !pipeline.key.includes(pipeline.columns[i]?.name ?? ''));
  const action =
    updates.length > 0
      ? `DO UPDATE SET ${updates.map((n) => `${n} = EXCLUDED.${n}`).join(', ')}`
      : 'DO NOTHING';
  const result = await client.query(
    `INSERT INTO ${target} AS t (${columns}) ${rows} ON CONFLICT (${keys.join(', ')}) ${action}`,
  );
  return result.rowCount ?? 0;
}

/**
 * TRUNCATE and INSERT in the load's transaction. The guard locks the table first (the lock TRUNCATE
 * would take), so that the rows it counts are exactly the rows TRUNCATE removes: no concurrent load can
 * commit rows in between. It counts only as far as decides (see rowsToCount); the exact figure for the
 * message is counted only when the file is refused.
 */
async function replaceAll(
  client: PoolClient,
  pipeline: Pipeline,
  insert: string,
  guarded: GuardedReplace | undefined,
): Promise<number> {
  const target = quoteTable(pipeline.table);
  const guard = guarded === undefined ? undefined : pipeline.replace;
  const limit = guard === undefined ? undefined : rowsToCount(guard, guarded?.stagedRows ?? 0);
  let held = 0;
  if (limit !== undefined) {
    await client.query(`LOCK TABLE ${target} IN ACCESS EXCLUSIVE MODE`);
    held = await countRows(client, target, limit);
    // Counted only in part: if the file is refused, the message wants the exact figure, from before TRUNCATE.
    if (held === limit) await client.query('SAVEPOINT inlet_replace');
  }
  await client.query(`TRUNCATE ${target}`);
  const loaded = (await client.query(insert)).rowCount ?? 0;
  if (guard === undefined || guarded === undefined) return loaded;
  // The count was bounded by the staged rows: inserting more would make it wrong (a bug, not the file's fault).
  if (loaded > guarded.stagedRows) {
    throw new InletError(
      'internal',
      `Replacing ${target} inserted ${loaded} rows of ${guarded.stagedRows} staged; nothing was changed. This is a bug in Inlet: please report it.`,
    );
  }
  if (!refuses(guard, loaded, held)) return loaded;
  let tableRows = held;
  if (held === limit) {
    await client.query('ROLLBACK TO SAVEPOINT inlet_replace');
    tableRows = await countRows(client, target);
  }
  throw replaceGuardError(pipeline, guard, {
    fileRows: loaded,
    tableRows,
    rejectedRows: guarded.rejectedRows,
  });
}
