import type { PoolClient } from 'pg';
import { quoteIdent, quoteTable } from '../db/sql.js';
import type { Pipeline } from './contract.js';
import type { RejectCollector } from './rejects.js';

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

/** Moves staged rows into the target; returns the number of rows inserted or updated. */
export async function mergeStaged(client: PoolClient, pipeline: Pipeline): Promise<number> {
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
    await client.query(`TRUNCATE ${target}`);
    const result = await client.query(`INSERT INTO ${target} (${columns}) ${rows}`);
    return result.rowCount ?? 0;
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
