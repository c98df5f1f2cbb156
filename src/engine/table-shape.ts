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

/**
 * The types (as format_type spells them without modifiers) a contract type loads into by binary COPY: its
 * own at any length or precision (the server applies the column's, refusing a value that does not fit), and
 * for text either of text and varchar, whose binary forms are the same. Anything else (a real into an
 * integer, a timestamp into a timestamptz) would load wrong values or fail.
 */
export function loadableTypes(type: ColumnType): readonly string[] {
  switch (type.kind) {
    case 'text':
    case 'varchar':
      return ['text', 'character varying'];
    case 'timestamp':
      return ['timestamp without time zone'];
    case 'timestamptz':
      return ['timestamp with time zone'];
    default:
      return [type.kind];
  }
}

/** A live column's type without its modifiers: `character varying(40)` → `character varying`. */
export function baseTypeOf(spelled: string): string {
  return spelled.replace(/\([^)]*\)/g, '');
}

const checks = new WeakMap<Pipeline, string | undefined>();

/**
 * A boolean SQL expression, true when every contract column is in the table with a type it loads into;
 * undefined for a pipeline whose contract its first file decides. Its only values are the contract's names
 * and types, quoted as literals.
 */
export function tableShapeCheck(pipeline: Pipeline): string | undefined {
  if (checks.has(pipeline)) return checks.get(pipeline);
  const pairs = pipeline.columns.flatMap((column) =>
    loadableTypes(column.type).map((type) => `(${quoteLiteral(column.name)}, ${quoteLiteral(type)})`),
  );
  const check =
    pairs.length === 0
      ? undefined
      : `(SELECT count(*) FROM pg_attribute a
           WHERE a.attrelid = to_regclass(${quoteLiteral(quoteTable(pipeline.table))}) AND a.attnum > 0
             AND NOT a.attisdropped
             AND (a.attname::text, format_type(a.atttypid, NULL)) IN (${pairs.join(', ')})) = ${pipeline.columns.length}`;
  checks.set(pipeline, check);
  return check;
}
