/**
 * The check that a pipeline's table still has the columns and types its contract loads into, asked in the
 * statement that begins each file's transaction (ledger-entry.ts), so it costs no round trip. Binary COPY
 * sends each value in the contract type's own layout, and PostgreSQL reads it in the column's: a `real` sent
 * into an `integer` column, or a `date` into an `integer`, loads as a wrong number instead of failing. A
 * table that fails the check is read and described (table-mismatch.ts) before anything is copied.
 */
import { quoteLiteral, quoteTable } from '../db/sql.js';
import type { ColumnType, Pipeline } from '../model/contract.js';

/** A contract type as PostgreSQL's format_type() spells the column's type. */
export function catalogSpelling(type: ColumnType): string {
  switch (type.kind) {
    case 'varchar':
      return type.length === undefined ? 'character varying' : `character varying(${type.length})`;
    case 'timestamp':
      return 'timestamp without time zone';
    case 'timestamptz':
      return 'timestamp with time zone';
    default:
      return type.sql;
  }
}

const checks = new WeakMap<Pipeline, string | undefined>();

/**
 * A boolean SQL expression, true when every contract column is in the table with the contract's type;
 * undefined for a pipeline whose contract its first file decides. Its only values are the contract's names
 * and types, quoted as literals.
 */
export function tableShapeCheck(pipeline: Pipeline): string | undefined {
  if (checks.has(pipeline)) return checks.get(pipeline);
  const pairs = pipeline.columns.map(
    (column) => `(${quoteLiteral(column.name)}, ${quoteLiteral(catalogSpelling(column.type))})`,
  );
  const check =
    pairs.length === 0
      ? undefined
      : `(SELECT count(*) FROM pg_attribute a
           WHERE a.attrelid = to_regclass(${quoteLiteral(quoteTable(pipeline.table))}) AND a.attnum > 0
             AND NOT a.attisdropped
             AND (a.attname::text, format_type(a.atttypid, a.atttypmod)) IN (${pairs.join(', ')})) = ${pairs.length}`;
  checks.set(pipeline, check);
  return check;
}
