/**
 * `inlet plan`: the DDL that brings a pipeline's live table to its contract, each statement with why, and
 * the changes it will not make on its own (a drop, a narrowing: destructive; SET NOT NULL over NULLs:
 * blocked until the data changes), each with what it would cost, counted in the table. Identifiers are
 * quoted, the few values in DDL (a default, a zone) quoted as literals; nothing comes from a loaded file.
 */
import { quoteIdent, quoteLiteral, quoteTable } from '../../db/sql.js';
import type { ColumnContract, ColumnType, Pipeline, TableName } from '../../model/contract.js';
import { type ContractVersion, readContractVersions, withEvolvedColumns } from '../contract-versions.js';
import {
  contractNotNull,
  type LiveColumn,
  liveTypeSql,
  type Queryable,
  readLiveTable,
} from './live-table.js';
import { keepsEveryValue } from './widening.js';

export type StepAction =
  | 'add_column'
  | 'widen'
  | 'drop_not_null'
  | 'set_not_null'
  | 'drop_column'
  | 'change_type';

export interface PlanStep {
  readonly action: StepAction;
  readonly column: string;
  /** The statement, without its semicolon. */
  readonly sql: string;
  /** One line: why this statement, and for a refused one what it would lose or what stands in its way. */
  readonly reason: string;
  /** Rows whose values the statement would lose or change (destructive), or that stand in its way (blocked). */
  readonly rows?: number;
}

export type PlanStatus = 'in_sync' | 'changes' | 'no_table' | 'no_contract';

export interface TablePlan {
  readonly pipeline: string;
  readonly table: TableName;
  readonly status: PlanStatus;
  /** Changes that keep every value: `inlet apply` runs them. */
  readonly changes: readonly PlanStep[];
  /** Changes that lose values or columns: run only with `--allow-destructive`. */
  readonly destructive: readonly PlanStep[];
  /** Changes PostgreSQL would refuse until the data changes (SET NOT NULL over NULLs). */
  readonly blocked: readonly PlanStep[];
  /** For a table there is nothing to compare with: what makes it. */
  readonly note?: string;
}

/**
 * The plan for one pipeline. An evolving pipeline's contract is its configured columns and the columns its
 * files added (contract-versions.ts), so those are never proposed for a drop; a pipeline that evolved and no
 * longer does is told, beside the drop, that the column came from its contract's history.
 */
export async function planTable(db: Queryable, configured: Pipeline): Promise<TablePlan> {
  const empty = {
    pipeline: configured.name,
    table: configured.table,
    changes: [],
    destructive: [],
    blocked: [],
  };
  if (configured.columns.length === 0) {
    return {
      ...empty,
      status: 'no_contract',
      note: 'infer: true: the first file that loads decides the contract and creates the table',
    };
  }
  const live = await readLiveTable(db, configured.table);
  if (live === undefined) {
    return {
      ...empty,
      status: 'no_table',
      note: configured.createTable
        ? 'no table yet: createTable: true creates it from the contract at the first inlet ingest (or inlet migrate)'
        : 'no table yet: create it, or set createTable: true and inlet ingest (or inlet migrate) creates it from the contract',
    };
  }
  const versions = await storedVersions(db, configured.name);
  const evolving = configured.onDrift === 'evolve';
  const pipeline = evolving ? withEvolvedColumns(configured, versions) : configured;
  const planner = new Planner(db, pipeline, live, evolving ? [] : versions);
  await planner.compare();
  const { changes, destructive, blocked } = planner;
  const status = changes.length + destructive.length + blocked.length === 0 ? 'in_sync' : 'changes';
  return { ...empty, status, changes, destructive, blocked };
}

/**
 * The versions an evolving pipeline's files made; none for a pipeline that never evolved, or in a database
 * not migrated to 010 yet (asked first rather than caught: `inlet apply` plans inside its transaction, which
 * a failed statement would abort).
 */
async function storedVersions(db: Queryable, pipeline: string): Promise<readonly ContractVersion[]> {
  const { rows } = await db.query<{ present: boolean }>(
    "SELECT to_regclass('inlet.contract_versions') IS NOT NULL AS present",
  );
  return rows[0]?.present === true ? readContractVersions(db, pipeline) : [];
}

class Planner {
  readonly changes: PlanStep[] = [];
  readonly destructive: PlanStep[] = [];
  readonly blocked: PlanStep[] = [];
  private readonly table: string;
  /** The statements that come after the type changes: SET NOT NULL must see the converted column. */
  private readonly notNullChanges: PlanStep[] = [];
  private rowCount: number | undefined;
  private inputTests: boolean | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly pipeline: Pipeline,
    private readonly live: readonly LiveColumn[],
    /** The contract's history, for a pipeline that no longer evolves: where a column it lacks came from. */
    private readonly history: readonly ContractVersion[],
  ) {
    this.table = quoteTable(pipeline.table);
  }

  async compare(): Promise<void> {
    const byName = new Map(this.live.map((column) => [column.name, column]));
    for (const column of this.pipeline.columns) {
      const found = byName.get(column.name);
      if (found === undefined) await this.addColumn(column);
      else {
        if (liveTypeSql(found) !== column.type.sql) await this.changeType(found, column);
        await this.nullability(found, column);
      }
    }
    this.changes.push(...this.notNullChanges);
    const named = new Set(this.pipeline.columns.map((column) => column.name));
    for (const column of this.live) {
      if (!named.has(column.name)) await this.dropColumn(column);
    }
  }

  private alter(clause: string): string {
    return `ALTER TABLE ${this.table} ${clause}`;
  }

  private async addColumn(column: ColumnContract): Promise<void> {
    const name = quoteIdent(column.name);
    const add = `ADD COLUMN ${name} ${column.type.sql}`;
    if (!contractNotNull(this.pipeline, column)) {
      this.changes.push({
        action: 'add_column',
        column: column.name,
        sql: this.alter(add),
        reason: `"${column.name}" is in the contract but not in the table: added, nullable`,
      });
      return;
    }
    if (column.default !== undefined) {
      this.changes.push({
        action: 'add_column',
        column: column.name,
        sql: this.alter(`${add} NOT NULL DEFAULT ${quoteLiteral(column.default)}`),
        reason: `"${column.name}" is in the contract (NOT NULL, default ${JSON.stringify(column.default)}) but not in the table: added, the rows it holds take the default`,
      });
      return;
    }
    const rows = await this.rows();
    if (rows === 0) {
      this.changes.push({
        action: 'add_column',
        column: column.name,
        sql: this.alter(`${add} NOT NULL`),
        reason: `"${column.name}" is in the contract (NOT NULL) but not in the table, which is empty: added NOT NULL`,
      });
      return;
    }
    this.changes.push({
      action: 'add_column',
      column: column.name,
      sql: this.alter(add),
      reason: `"${column.name}" is in the contract but not in the table: added nullable, since the ${rows} rows the table holds have no value for it`,
    });
    this.blocked.push({
      action: 'set_not_null',
      column: column.name,
      sql: this.alter(`ALTER COLUMN ${quoteIdent(column.name)} SET NOT NULL`),
      reason: `the contract says NOT NULL without a default, and the ${rows} rows already in the table would hold NULL: fill the column (or give it a default in the contract) first`,
      rows,
    });
  }

  private async changeType(found: LiveColumn, column: ColumnContract): Promise<void> {
    const name = quoteIdent(column.name);
    const from = liveTypeSql(found);
    const to = column.type.sql;
    if (found.type !== undefined && keepsEveryValue(found.type, column.type)) {
      const using =
        found.type.kind === 'timestamp' && column.type.kind === 'timestamptz'
          ? ` USING ${name} AT TIME ZONE ${quoteLiteral(this.pipeline.timezone)}`
          : '';
      this.changes.push({
        action: 'widen',
        column: column.name,
        sql: this.alter(`ALTER COLUMN ${name} TYPE ${to}${using}`),
        reason: using
          ? `widens "${column.name}" from ${from} to ${to}: each value is read as a time in the pipeline's zone, ${this.pipeline.timezone}`
          : `widens "${column.name}" from ${from} to ${to}: every value is kept`,
      });
      return;
    }
    if (!(await this.canTestInput())) {
      this.destructive.push({
        action: 'change_type',
        column: column.name,
        sql: this.alter(`ALTER COLUMN ${name} TYPE ${to} USING (${name}::text)::${to}`),
        reason: `${from} → ${to} can lose values (this PostgreSQL, before 16, cannot count them: a value that does not fit makes PostgreSQL refuse the change)`,
      });
      return;
    }
    const loss = await this.countLoss(found, column.type);
    const lost = [
      loss.unfit > 0
        ? `${loss.unfit} ${loss.unfit === 1 ? 'does' : 'do'} not fit ${to} and would become NULL`
        : '',
      loss.altered > 0 ? `${loss.altered} would change (rounded or converted)` : '',
    ].filter((part) => part !== '');
    this.destructive.push({
      action: 'change_type',
      column: column.name,
      sql: this.alter(
        // A value that does not fit becomes NULL, as the reason says, rather than failing the statement.
        `ALTER COLUMN ${name} TYPE ${to} USING CASE WHEN pg_input_is_valid(${name}::text, ${quoteLiteral(to)}) THEN (${name}::text)::${to} END`,
      ),
      reason: `${from} → ${to} can lose values: ${
        lost.length === 0
          ? `none of the ${loss.values} values held now would be lost, but the column would take fewer`
          : `of the ${loss.values} values held now, ${lost.join(', ')}`
      }${
        // NULL in a NOT NULL column: PostgreSQL refuses the statement, and the transaction with it.
        loss.unfit > 0 && found.notNull
          ? '; the column is NOT NULL, so PostgreSQL would refuse the change: fix or delete those rows first'
          : ''
      }`,
      rows: loss.unfit + loss.altered,
    });
  }

  /** Values that would not survive `found` becoming `to`: not valid input for it, or changed by the cast. */
  private async countLoss(
    found: LiveColumn,
    to: ColumnType,
  ): Promise<{ values: number; unfit: number; altered: number }> {
    const name = quoteIdent(found.name);
    const cast = `(${name}::text)::${to.sql}`;
    // A known live type is compared as itself (1.230 = 1.23); another by its text.
    const altered =
      found.type === undefined
        ? `${cast}::text IS DISTINCT FROM ${name}::text`
        : `${cast}::${found.type.sql} IS DISTINCT FROM ${name}`;
    const { rows } = await this.db.query<{ values: string; unfit: string; altered: string }>(
      `SELECT count(${name}) AS values,
              count(*) FILTER (WHERE ${name} IS NOT NULL AND NOT pg_input_is_valid(${name}::text, $1)) AS unfit,
              count(*) FILTER (WHERE ${name} IS NOT NULL AND CASE WHEN pg_input_is_valid(${name}::text, $1)
                                     THEN ${altered} ELSE false END) AS altered
         FROM ${this.table}`,
      [to.sql],
    );
    const row = rows[0];
    return {
      values: Number(row?.values ?? 0),
      unfit: Number(row?.unfit ?? 0),
      altered: Number(row?.altered ?? 0),
    };
  }

  private async nullability(found: LiveColumn, column: ColumnContract): Promise<void> {
    const name = quoteIdent(column.name);
    const wanted = contractNotNull(this.pipeline, column);
    if (wanted && !found.notNull) {
      const { rows } = await this.db.query<{ nulls: string }>(
        `SELECT count(*) AS nulls FROM ${this.table} WHERE ${name} IS NULL`,
      );
      const nulls = Number(rows[0]?.nulls ?? 0);
      const step = {
        action: 'set_not_null' as const,
        column: column.name,
        sql: this.alter(`ALTER COLUMN ${name} SET NOT NULL`),
      };
      if (nulls === 0) {
        this.notNullChanges.push({
          ...step,
          reason: `the contract says "${column.name}" is NOT NULL, and no row holds NULL in it`,
        });
      } else {
        this.blocked.push({
          ...step,
          reason: `the contract says "${column.name}" is NOT NULL, but ${nulls} ${nulls === 1 ? 'row holds' : 'rows hold'} NULL in it: fill or delete them first (or make the column nullable in the contract)`,
          rows: nulls,
        });
      }
    } else if (!wanted && found.notNull) {
      if (found.inPrimaryKey) {
        this.blocked.push({
          action: 'drop_not_null',
          column: column.name,
          sql: this.alter(`ALTER COLUMN ${name} DROP NOT NULL`),
          reason: `the contract lets "${column.name}" be empty, but it is part of the table's primary key, which PostgreSQL keeps NOT NULL: make it a key column of the pipeline, or change the key yourself`,
        });
      } else {
        this.changes.push({
          action: 'drop_not_null',
          column: column.name,
          sql: this.alter(`ALTER COLUMN ${name} DROP NOT NULL`),
          reason: `the contract lets "${column.name}" be empty (nullable): every value is kept`,
        });
      }
    }
  }

  private async dropColumn(column: LiveColumn): Promise<void> {
    const name = quoteIdent(column.name);
    const { rows } = await this.db.query<{ values: string; total: string }>(
      `SELECT count(${name}) AS values, count(*) AS total FROM ${this.table}`,
    );
    const values = Number(rows[0]?.values ?? 0);
    const total = Number(rows[0]?.total ?? 0);
    this.destructive.push({
      action: 'drop_column',
      column: column.name,
      sql: this.alter(`DROP COLUMN ${name}`),
      reason: `"${column.name}" (${liveTypeSql(column)}) is in the table but not in the contract${this.evolvedAt(column.name)}: dropping it would lose its ${values} non-NULL values (of ${total} rows)`,
      rows: values,
    });
  }

  /** For a column a file added under onDrift: evolve, where it came from and how to keep it. */
  private evolvedAt(name: string): string {
    const version = this.history.find((v) => v.columns.some((column) => column.name === name));
    if (version === undefined) return '';
    return ` (contract version ${version.version} added it from ${version.source} under onDrift: evolve, which the pipeline no longer has: list it in the pipeline's columns, or set onDrift: evolve again, to keep it)`;
  }

  /** pg_input_is_valid(), which counts and keeps apart the values a type cannot take, came in PostgreSQL 16. */
  private async canTestInput(): Promise<boolean> {
    if (this.inputTests === undefined) {
      const { rows } = await this.db.query<{ version: string }>(
        `SELECT current_setting('server_version_num') AS version`,
      );
      this.inputTests = Number(rows[0]?.version ?? 0) >= 160000;
    }
    return this.inputTests;
  }

  private async rows(): Promise<number> {
    if (this.rowCount === undefined) {
      const { rows } = await this.db.query<{ total: string }>(`SELECT count(*) AS total FROM ${this.table}`);
      this.rowCount = Number(rows[0]?.total ?? 0);
    }
    return this.rowCount;
  }
}

/** The statements `inlet apply` runs for a plan: its changes, and its destructive ones when allowed. */
export function statementsToApply(plan: TablePlan, allowDestructive: boolean): PlanStep[] {
  return [...plan.changes, ...(allowDestructive ? plan.destructive : [])];
}
