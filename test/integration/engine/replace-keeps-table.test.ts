/**
 * mode: replace swaps a table's rows, never the table (issue 17): its grants, indexes, constraints,
 * comments and the views built on it are the same after every replace. A table other tables refer to by a
 * foreign key cannot be emptied; the file then fails saying why and what to do instead, never by
 * deleting the rows that refer to it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineHarness } from '../../harness/engine.js';
import { memorySource } from '../../harness/sources.js';

const h = engineHarness('rk');

const COLUMNS = [
  { name: 'id', type: 'bigint', nullable: false },
  { name: 'name', type: 'text' },
];

function csv(...ids: number[]): string {
  return `id,name\n${ids.map((id) => `${id},n${id}`).join('\n')}\n`;
}

const ROLE = `inlet_replace_reader_${process.pid}`;

beforeAll(async () => {
  await h.state.pool.query(`DROP ROLE IF EXISTS ${ROLE}`);
  await h.state.pool.query(`CREATE ROLE ${ROLE} NOLOGIN`);
});
afterAll(async () => {
  await h.state.pool.query(`DROP OWNED BY ${ROLE}`).catch(() => undefined);
  await h.state.pool.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
});

/** What PostgreSQL says the table is, beyond its rows. */
async function shapeOf(table: string) {
  const { rows } = await h.state.pool.query<Record<string, unknown>>(
    `SELECT c.oid::int AS oid,
            has_table_privilege($2, c.oid, 'SELECT') AS granted,
            obj_description(c.oid, 'pg_class') AS comment,
            (SELECT array_agg(indexname::text ORDER BY indexname) FROM pg_indexes
              WHERE schemaname = 'public' AND tablename = c.relname) AS indexes,
            (SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint WHERE conrelid = c.oid) AS constraints
       FROM pg_class c WHERE c.oid = $1::regclass`,
    [table, ROLE],
  );
  return rows[0];
}

describe('mode: replace', () => {
  it('keeps the grants, indexes, constraints, comment and dependent views of the table, replace after replace', async () => {
    const pipeline = await h.freshPipeline({ mode: 'replace', key: ['id'], columns: COLUMNS });
    const table = `public.${pipeline.table.name}`;
    expect(await h.run(memorySource('first.csv', csv(1, 2, 3)), pipeline)).toMatchObject({
      status: 'loaded',
    });
    const view = `${pipeline.table.name}_named`;
    await h.state.pool.query(
      `CREATE VIEW public.${view} AS SELECT id, upper(name) AS loud FROM ${table} WHERE id > 1`,
    );
    await h.state.pool.query(`GRANT SELECT ON ${table}, public.${view} TO ${ROLE}`);
    await h.state.pool.query(`CREATE INDEX ${pipeline.table.name}_by_name ON ${table} (name)`);
    await h.state.pool.query(
      `ALTER TABLE ${table} ADD CONSTRAINT ${pipeline.table.name}_positive CHECK (id > 0)`,
    );
    await h.state.pool.query(`COMMENT ON TABLE ${table} IS 'the orders as the partner last sent them'`);
    const before = await shapeOf(table);
    expect(before).toMatchObject({ granted: true, comment: 'the orders as the partner last sent them' });

    for (const [name, ids] of [
      ['second.csv', [2, 3, 4]],
      ['third.csv', [3, 4, 5, 6]],
    ] as const) {
      expect(await h.run(memorySource(name, csv(...ids)), pipeline)).toMatchObject({
        status: 'loaded',
        rowsLoaded: ids.length,
      });
      expect(await shapeOf(table)).toEqual(before);
      const viewRows = await h.state.pool.query(`SELECT id::int, loud FROM public.${view} ORDER BY id`);
      expect(viewRows.rows).toEqual(ids.filter((id) => id > 1).map((id) => ({ id, loud: `N${id}` })));
      const granted = await h.state.pool.query('SELECT has_table_privilege($1, $2, $3) AS ok', [
        ROLE,
        `public.${view}`,
        'SELECT',
      ]);
      expect(granted.rows[0]?.ok).toBe(true);
    }
    // The constraint still holds: a row it forbids is a rejected file, not a silently dropped check.
    const negative = await h.run(memorySource('negative.csv', csv(-1)), pipeline);
    expect(negative.status).not.toBe('loaded');
    expect((await h.rows(pipeline, 'id')).map((row) => Number(row.id))).toEqual([3, 4, 5, 6]);
  });

  it('refuses, with what to do, to empty a table other tables refer to, and leaves it as it was', async () => {
    const pipeline = await h.freshPipeline({ mode: 'replace', key: ['id'], columns: COLUMNS });
    const table = `public.${pipeline.table.name}`;
    expect(await h.run(memorySource('first.csv', csv(1, 2)), pipeline)).toMatchObject({ status: 'loaded' });
    const child = `${pipeline.table.name}_lines`;
    await h.state.pool.query(
      `CREATE TABLE public.${child} (line int PRIMARY KEY, parent bigint CONSTRAINT ${child}_parent REFERENCES ${table} (id))`,
    );
    await h.state.pool.query(`INSERT INTO public.${child} VALUES (1, 1)`);
    const result = await h.run(memorySource('again.csv', csv(1, 2, 3)), pipeline);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'database_refused' } });
    const message = result.error?.message ?? '';
    // PostgreSQL's own words name the table that refers to it; Inlet's say why and what to do instead.
    expect(message).toContain(`Table "${child}" references "${pipeline.table.name}"`);
    expect(message).toContain(`mode: replace empties ${table} before it loads the file`);
    expect(message).toContain('Load this pipeline with mode: upsert instead, or remove the foreign key.');
    expect(message).not.toContain('CASCADE');
    expect((await h.rows(pipeline, 'id')).map((row) => Number(row.id))).toEqual([1, 2]);
  });
});
