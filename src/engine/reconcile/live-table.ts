/**
 * The live shape of a pipeline's table, read from PostgreSQL's catalog: what `inlet plan` compares the
 * contract with, and what a load whose first statement found the table out of date (table-shape.ts) reads
 * to say which columns differ. Names are passed as parameters and compared in the catalog, never spliced into SQL.
 */

import { parseColumnType } from '../../model/column-type.js';
import type { ColumnContract, ColumnType, Pipeline, TableName } from '../../model/contract.js';
import { baseTypeOf, loadableTypes } from '../table-shape.js';

/** What `pool.query` and a client's `query` both offer. */
export interface Queryable {
  query<R extends object>(sql: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

export interface LiveColumn {
  readonly name: string;
  /** As PostgreSQL spells it (`format_type`): `character varying(40)`, `timestamp without time zone`. */
  readonly spelled: string;
  /** The type read as a contract type, or undefined for one Inlet does not know (`inet`, `timestamp(3)`). */
  readonly type: ColumnType | undefined;
  readonly notNull: boolean;
  /** Part of the table's primary key (PostgreSQL refuses DROP NOT NULL on those). */
  readonly inPrimaryKey: boolean;
  readonly hasDefault: boolean;
}

/** The table's columns in their order, or undefined when there is no such table. */
export async function readLiveTable(db: Queryable, table: TableName): Promise<LiveColumn[] | undefined> {
  const { rows } = await db.query<{
    name: string | null;
    spelled: string | null;
    not_null: boolean | null;
    in_pk: boolean | null;
    has_default: boolean | null;
  }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS spelled, a.attnotnull AS not_null,
            COALESCE(a.attnum = ANY (pk.conkey), false) AS in_pk, a.atthasdef AS has_default
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
      ORDER BY a.attnum`,
    [table.schema, table.name],
  );
  if (rows.length === 0) return undefined;
  return rows
    .filter((row) => row.name !== null)
    .map((row) => {
      const parsed = parseColumnType(row.spelled ?? '');
      return {
        name: row.name as string,
        spelled: row.spelled ?? '',
        type: typeof parsed === 'string' ? undefined : parsed,
        notNull: row.not_null === true,
        inPrimaryKey: row.in_pk === true,
        hasDefault: row.has_default === true,
      };
    });
}

/** NOT NULL as the table should have it: what the contract says, and always for key columns (create-table.ts). */
export function contractNotNull(pipeline: Pipeline, column: ColumnContract): boolean {
  return !column.nullable || pipeline.key.includes(column.name);
}

/** How a live column's type reads beside the contract's: `varchar(40)`, or PostgreSQL's own spelling. */
export function liveTypeSql(column: LiveColumn): string {
  return column.type?.sql ?? column.spelled;
}

/** One way the live table cannot take what the contract loads. */
export interface ShapeMismatch {
  readonly column: string;
  readonly problem: string;
}

/**
 * What keeps a load from going into the table as the contract describes it: contract columns the table
 * lacks, types it cannot load into (table-shape.ts: binary COPY needs the contract's type, at any length or
 * precision, or text and varchar for each other), NOT NULL columns the contract may leave empty. Empty when
 * the table matches.
 */
export function loadMismatches(pipeline: Pipeline, live: readonly LiveColumn[]): ShapeMismatch[] {
  const byName = new Map(live.map((column) => [column.name, column]));
  const mismatches: ShapeMismatch[] = [];
  for (const column of pipeline.columns) {
    const found = byName.get(column.name);
    if (found === undefined) {
      mismatches.push({ column: column.name, problem: 'is missing from the table' });
    } else if (!loadableTypes(column.type).includes(baseTypeOf(found.spelled))) {
      mismatches.push({
        column: column.name,
        problem: `is ${liveTypeSql(found)} in the table but ${column.type.sql} in the contract`,
      });
    } else if (found.notNull && !contractNotNull(pipeline, column)) {
      mismatches.push({
        column: column.name,
        problem: 'is NOT NULL in the table but nullable in the contract',
      });
    }
  }
  const named = new Set(pipeline.columns.map((column) => column.name));
  for (const column of live) {
    if (!named.has(column.name) && column.notNull && !column.hasDefault) {
      mismatches.push({
        column: column.name,
        problem: 'is NOT NULL without a default in the table, and not in the contract',
      });
    }
  }
  return mismatches;
}
