/**
 * applyPlans plans again under the table lock and runs only what was printed: a table that changed between
 * the plan and the apply is left as it is (plan_changed), and a failing statement undoes the whole
 * transaction, every table of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlans } from '../../../../src/engine/reconcile/apply.js';
import { planTable } from '../../../../src/engine/reconcile/plan.js';
import { createTestDatabase, type TestDatabase } from '../../../harness/db.js';
import { testPipeline } from '../../../harness/pipelines.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function columns(table: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ column: string }>(
    `SELECT column_name || ' ' || data_type AS column FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((row) => row.column);
}

describe('applyPlans', () => {
  it('changes nothing when the table changed since the plan was printed', async () => {
    await db.pool.query('CREATE TABLE public.replanned (id bigint NOT NULL, qty integer)');
    const pipeline = testPipeline({
      name: 'replanned',
      table: { schema: 'public', name: 'replanned' },
      columns: [
        { name: 'id', type: 'bigint', nullable: false },
        { name: 'qty', type: 'bigint' },
        { name: 'note', type: 'text' },
      ],
    });
    const printed = await planTable(db.pool, pipeline);
    expect(printed.changes.map((step) => step.action)).toEqual(['widen', 'add_column']);
    // Someone adds the column by hand in between: the plan under the lock has one statement less.
    await db.pool.query('ALTER TABLE public.replanned ADD COLUMN note text');
    await expect(
      applyPlans(db.pool, [pipeline], [printed], { allowDestructive: false, lockTimeoutMs: 2000 }),
    ).rejects.toMatchObject({ code: 'plan_changed' });
    expect(await columns('replanned')).toEqual(['id bigint', 'qty integer', 'note text']);
  });

  it('undoes every table when a statement fails', async () => {
    await db.pool.query('CREATE TABLE public.first_one (id bigint NOT NULL)');
    await db.pool.query('CREATE TABLE public.second_one (id bigint NOT NULL, code varchar(10))');
    await db.pool.query("INSERT INTO public.second_one VALUES (1, 'abcdefgh')");
    const first = testPipeline({
      name: 'first',
      table: { schema: 'public', name: 'first_one' },
      columns: [
        { name: 'id', type: 'bigint', nullable: false },
        { name: 'added', type: 'text' },
      ],
    });
    // A NOT NULL column whose narrowing turns its one value into NULL: PostgreSQL refuses the statement.
    await db.pool.query('ALTER TABLE public.second_one ALTER COLUMN code SET NOT NULL');
    const second = testPipeline({
      name: 'second',
      table: { schema: 'public', name: 'second_one' },
      columns: [
        { name: 'id', type: 'bigint', nullable: false },
        { name: 'code', type: 'varchar(3)', nullable: false },
      ],
    });
    const plans = [await planTable(db.pool, first), await planTable(db.pool, second)];
    expect(plans[1]?.destructive.map((step) => step.rows)).toEqual([1]);
    expect(plans[1]?.destructive[0]?.reason).toContain(
      'the column is NOT NULL, so PostgreSQL would refuse the change: fix or delete those rows first',
    );
    await expect(
      applyPlans(db.pool, [first, second], plans, { allowDestructive: true, lockTimeoutMs: 2000 }),
    ).rejects.toMatchObject({ code: 'db_query' });
    expect(await columns('first_one')).toEqual(['id bigint']);
    expect(await columns('second_one')).toEqual(['id bigint', 'code character varying']);
  });
});
