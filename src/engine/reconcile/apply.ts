/**
 * `inlet apply`: the plan's statements in one transaction. Each table is locked first, within a lock
 * timeout (a load holds its table for as long as it runs, and DDL queued behind it would block every later
 * load too), then planned again under the lock: what runs is what was printed, or nothing runs.
 */
import type pg from 'pg';
import { sqlStateOf, toDatabaseError } from '../../db/errors.js';
import { quoteTable } from '../../db/sql.js';
import { InletError } from '../../errors.js';
import type { Pipeline } from '../../model/contract.js';
import { planTable, statementsToApply, type TablePlan } from './plan.js';

export interface ApplyOptions {
  readonly allowDestructive: boolean;
  /** How long to wait for each table's lock before giving up with nothing changed. */
  readonly lockTimeoutMs: number;
}

/** The statements run, per pipeline whose plan had any. */
export interface AppliedTable {
  readonly pipeline: string;
  readonly statements: readonly string[];
}

export async function applyPlans(
  pool: pg.Pool,
  pipelines: readonly Pipeline[],
  printed: readonly TablePlan[],
  options: ApplyOptions,
): Promise<AppliedTable[]> {
  const work = pipelines
    .map((pipeline) => ({ pipeline, plan: printed.find((plan) => plan.pipeline === pipeline.name) }))
    .filter(({ plan }) => plan !== undefined && statementsToApply(plan, options.allowDestructive).length > 0);
  if (work.length === 0) return [];
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs))}`);
    const applied: AppliedTable[] = [];
    for (const { pipeline, plan } of work) {
      const table = quoteTable(pipeline.table);
      try {
        await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      } catch (error) {
        if (sqlStateOf(error) !== '55P03') throw error;
        throw new InletError(
          'lock_timeout',
          `Could not lock ${pipeline.table.schema}.${pipeline.table.name} within ${formatSeconds(options.lockTimeoutMs)}: another transaction holds it (a load in progress, or a long query). Nothing was changed; run inlet apply again when it is done, or wait longer with --lock-timeout.`,
          { cause: error },
        );
      }
      const expected = statementsToApply(plan as TablePlan, options.allowDestructive).map((step) => step.sql);
      const now = statementsToApply(await planTable(client, pipeline), options.allowDestructive).map(
        (step) => step.sql,
      );
      if (now.join('\n') !== expected.join('\n')) {
        throw new InletError(
          'plan_changed',
          `The table ${pipeline.table.schema}.${pipeline.table.name} changed since the plan was printed (pipeline "${pipeline.name}"). Nothing was changed; run inlet plan to see the new plan, then inlet apply again.`,
        );
      }
      for (const sql of expected) await client.query(sql);
      applied.push({ pipeline: pipeline.name, statements: expected });
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (error instanceof InletError) throw error;
    throw toDatabaseError(error, 'applying the plan (nothing was changed)');
  } finally {
    client.release();
  }
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
