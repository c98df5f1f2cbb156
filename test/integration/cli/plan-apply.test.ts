/**
 * `inlet plan` and `inlet apply` on a real PostgreSQL: a contract edited after its table was made is
 * planned (each widening, added column and NOT NULL change, with the destructive ones and the ones the data
 * blocks apart, counted), applied in one transaction, after which the plan is empty and a file that needs
 * the wider types loads; apply refuses without a terminal or --yes, and gives up on a lock held by another
 * transaction. A load into a table out of date with its contract fails naming the column and inlet plan.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runInlet } from '../../harness/cli.js';
import { cliWorkspace } from '../../harness/cli-workspace.js';

const workspace = cliWorkspace('inlet-cli-plan-');
const { inlet } = workspace;
const inDir = (name: string) => join(workspace.dir, name);

/** One pipeline per table, so each scenario edits its own contract. */
function config(pipelines: string): string {
  return `pipelines:\n${pipelines}`;
}

const WIDEN_V1 = `
  - name: widen
    match: ["widen*.csv"]
    table: public.plan_widen
    createTable: true
    timezone: Europe/Paris
    columns:
      - { name: id, type: bigint, nullable: false }
      - { name: s, type: smallint }
      - { name: i, type: integer }
      - { name: v, type: varchar(5) }
      - { name: vt, type: varchar(5) }
      - { name: n, type: "numeric(5,2)" }
      - { name: r, type: real }
      - { name: t, type: timestamp }
      - { name: req, type: text, nullable: false }
      - { name: ok, type: text }
`;

const WIDEN_V2 = `
  - name: widen
    match: ["widen*.csv"]
    table: public.plan_widen
    createTable: true
    timezone: Europe/Paris
    columns:
      - { name: id, type: bigint, nullable: false }
      - { name: s, type: integer }
      - { name: i, type: bigint }
      - { name: v, type: varchar(12) }
      - { name: vt, type: text }
      - { name: n, type: "numeric(12,2)" }
      - { name: r, type: double precision }
      - { name: t, type: timestamptz }
      - { name: req, type: text }
      - { name: ok, type: text, nullable: false }
      - { name: coupon, type: text }
      - { name: qty, type: integer, nullable: false, default: 1 }
`;

const NARROW_V1 = `
  - name: narrow
    match: ["narrow*.csv"]
    table: public.plan_narrow
    createTable: true
    columns:
      - { name: id, type: bigint, nullable: false }
      - { name: code, type: varchar(10) }
      - { name: big, type: bigint }
      - { name: amount, type: "numeric(8,2)" }
      - { name: must, type: text }
      - { name: legacy, type: text }
`;

const NARROW_V2 = `
  - name: narrow
    match: ["narrow*.csv"]
    table: public.plan_narrow
    createTable: true
    columns:
      - { name: id, type: bigint, nullable: false }
      - { name: code, type: varchar(3) }
      - { name: big, type: integer }
      - { name: amount, type: "numeric(4,1)" }
      - { name: must, type: text, nullable: false }
`;

const DRIFT = `
  - name: drifted
    match: ["drifted*.csv"]
    table: public.plan_drifted
    createTable: true
    columns:
      - { name: id, type: bigint, nullable: false }
      - { name: qty, type: integer }
      - { name: label, type: text }
`;

async function writeConfig(name: string, ...pipelines: string[]): Promise<string> {
  const path = inDir(name);
  await writeFile(path, config(pipelines.join('')));
  return path;
}

async function query<R>(sql: string): Promise<R[]> {
  return (await workspace.db.pool.query(sql)).rows as R[];
}

let v1: string;
let v2: string;

beforeAll(async () => {
  v1 = await writeConfig('v1.yaml', WIDEN_V1, NARROW_V1, DRIFT);
  v2 = await writeConfig('v2.yaml', WIDEN_V2, NARROW_V2, DRIFT);
  await writeFile(
    inDir('widen-1.csv'),
    'id,s,i,v,vt,n,r,t,req,ok\n1,1,1,abc,abc,1.50,1.5,2024-01-01T12:00:00,x,y\n2,,,,,,,,z,w\n',
  );
  await writeFile(
    inDir('narrow-1.csv'),
    'id,code,big,amount,must,legacy\n1,ABC,1,12.34,a,old\n2,ABCDEF,3000000000,123456.78,,old2\n3,,5,1.50,c,\n',
  );
  await writeFile(inDir('drifted-1.csv'), 'id,qty,label\n1,2,a\n');
  for (const file of ['widen-1.csv', 'narrow-1.csv', 'drifted-1.csv']) {
    const run = await inlet('ingest', inDir(file), '--config', v1);
    expect(run.code, run.stdout + run.stderr).toBe(0);
  }
  // An empty CSV field is an empty string in a text column: the NULL comes from elsewhere.
  await workspace.db.pool.query('UPDATE public.plan_narrow SET must = NULL WHERE id = 2');
});

describe('inlet plan', () => {
  it('says nothing to do (exit 0) when every table matches its contract', async () => {
    const run = await inlet('plan', '--config', v1);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('pipeline widen → public.plan_widen: matches the contract');
    expect(run.stdout).toContain('Nothing to do');
  });

  it('prints each widening, added column and NOT NULL change with its reason, and exits 1', async () => {
    const run = await inlet('plan', '--config', v2, '--pipeline', 'widen');
    expect(run.code, run.stderr).toBe(1);
    const out = run.stdout;
    const table = '"public"."plan_widen"';
    for (const statement of [
      `ALTER TABLE ${table} ALTER COLUMN "s" TYPE integer;`,
      `ALTER TABLE ${table} ALTER COLUMN "i" TYPE bigint;`,
      `ALTER TABLE ${table} ALTER COLUMN "v" TYPE varchar(12);`,
      `ALTER TABLE ${table} ALTER COLUMN "vt" TYPE text;`,
      `ALTER TABLE ${table} ALTER COLUMN "n" TYPE numeric(12,2);`,
      `ALTER TABLE ${table} ALTER COLUMN "r" TYPE double precision;`,
      `ALTER TABLE ${table} ALTER COLUMN "t" TYPE timestamptz USING "t" AT TIME ZONE 'Europe/Paris';`,
      `ALTER TABLE ${table} ALTER COLUMN "req" DROP NOT NULL;`,
      `ALTER TABLE ${table} ALTER COLUMN "ok" SET NOT NULL;`,
      `ALTER TABLE ${table} ADD COLUMN "coupon" text;`,
      `ALTER TABLE ${table} ADD COLUMN "qty" integer NOT NULL DEFAULT '1';`,
    ]) {
      expect(out).toContain(statement);
    }
    expect(out).toContain('widens "s" from smallint to integer: every value is kept');
    expect(out).toContain("each value is read as a time in the pipeline's zone, Europe/Paris");
    expect(out).toContain('-- the contract says "ok" is NOT NULL, and no row holds NULL in it');
    expect(out).not.toContain('refused');
    expect(out).toContain('Plan: 11 changes to apply. inlet apply runs it.');
  });

  it('lists destructive changes apart with what each would lose, and SET NOT NULL over NULLs as blocked', async () => {
    const run = await inlet('plan', '--config', v2, '--pipeline', 'narrow', '--json');
    expect(run.code, run.stderr).toBe(1);
    const [plan] = jsonLines(run.stdout);
    expect(Object.keys(plan ?? {})).toEqual([
      'pipeline',
      'table',
      'status',
      'changes',
      'destructive',
      'blocked',
    ]);
    expect(plan).toMatchObject({
      pipeline: 'narrow',
      table: 'public.plan_narrow',
      status: 'changes',
      changes: [],
    });
    const destructive = plan?.destructive as {
      action: string;
      column: string;
      rows: number;
      reason: string;
      sql: string;
    }[];
    const by = (column: string) => destructive.find((step) => step.column === column);
    expect(destructive.map((step) => [step.action, step.column, step.rows])).toEqual([
      ['change_type', 'code', 1],
      ['change_type', 'big', 1],
      ['change_type', 'amount', 2],
      ['drop_column', 'legacy', 3],
    ]);
    expect(by('code')?.reason).toBe(
      'varchar(10) → varchar(3) can lose values: of the 3 values held now, 1 does not fit varchar(3) and would become NULL',
    );
    expect(by('big')?.reason).toContain('1 does not fit integer and would become NULL');
    // 123456.78 has too many integer digits (NULL); 12.34 loses a decimal (rounded); 1.50 survives.
    expect(by('amount')?.reason).toContain(
      'of the 3 values held now, 1 does not fit numeric(4,1) and would become NULL, 1 would change (rounded or converted)',
    );
    expect(by('legacy')?.reason).toBe(
      '"legacy" (text) is in the table but not in the contract: dropping it would lose its 3 non-NULL values (of 3 rows)',
    );
    expect(by('legacy')?.sql).toBe('ALTER TABLE "public"."plan_narrow" DROP COLUMN "legacy"');
    expect(plan?.blocked).toEqual([
      {
        action: 'set_not_null',
        column: 'must',
        sql: 'ALTER TABLE "public"."plan_narrow" ALTER COLUMN "must" SET NOT NULL',
        reason:
          'the contract says "must" is NOT NULL, but 1 row holds NULL in it: fill or delete them first (or make the column nullable in the contract)',
        rows: 1,
      },
    ]);
  });

  it('says how a table that does not exist yet is made', async () => {
    const path = await writeConfig(
      'missing.yaml',
      `
  - name: later
    table: public.plan_not_yet
    createTable: true
    columns: [{ name: id, type: bigint }]
  - name: manual
    table: public.plan_manual
    columns: [{ name: id, type: bigint }]
`,
    );
    const run = await inlet('plan', '--config', path);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('createTable: true creates it from the contract at the first inlet ingest');
    expect(run.stdout).toContain('create it, or set createTable: true');
  });

  it('exits 2 for an unknown pipeline', async () => {
    const run = await inlet('plan', '--config', v2, '--pipeline', 'nope');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown pipeline "nope"');
  });
});

describe('inlet apply', () => {
  it('refuses to run without a terminal and without --yes, changing nothing', async () => {
    const run = await runInlet(['apply', '--config', v2, '--pipeline', 'widen'], {
      ...workspace.env,
      CI: 'true',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no terminal to ask for confirmation on; nothing was changed');
    expect((await inlet('plan', '--config', v2, '--pipeline', 'widen')).code).toBe(1);
  });

  it('gives up on a table another transaction holds, within --lock-timeout, changing nothing', async () => {
    const holder = await workspace.db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT count(*) FROM public.plan_widen');
      const run = await inlet(
        'apply',
        '--config',
        v2,
        '--pipeline',
        'widen',
        '--yes',
        '--lock-timeout',
        '0.5',
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('Could not lock public.plan_widen within 0.5 s');
      expect(run.stderr).toContain('Nothing was changed');
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect((await inlet('plan', '--config', v2, '--pipeline', 'widen')).code).toBe(1);
  });

  it('applies the widenings in one transaction; the plan is then empty and values needing them load', async () => {
    const run = await inlet('apply', '--config', v2, '--pipeline', 'widen', '--yes');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('applied 11 statements to public.plan_widen (pipeline widen)');
    const again = await inlet('plan', '--config', v2, '--pipeline', 'widen');
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toContain('Nothing to do');
    // Nothing to run: nothing to confirm, so no --yes is needed even without a terminal.
    const idle = await runInlet(['apply', '--config', v2, '--pipeline', 'widen'], {
      ...workspace.env,
      CI: 'true',
    });
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.stdout).toContain('Nothing to do');
    // The offset-less timestamp was read in Europe/Paris (UTC+1 in January); the old rows took the default.
    const [old] = await query<{ t: Date; qty: number }>('SELECT t, qty FROM public.plan_widen WHERE id = 1');
    expect(old?.t.toISOString()).toBe('2024-01-01T11:00:00.000Z');
    expect(old?.qty).toBe(1);

    await writeFile(
      inDir('widen-2.csv'),
      'id,s,i,v,vt,n,r,t,req,ok,coupon,qty\n' +
        '3,40000,5000000000,twelve chars,a much longer text than five,1234567890.12,1.000000000001,2024-06-01T12:00:00+00:00,,k,SAVE10,7\n',
    );
    const load = await inlet('ingest', inDir('widen-2.csv'), '--config', v2, '--json');
    expect(load.code, load.stdout + load.stderr).toBe(0);
    const [row] = await query<Record<string, unknown>>(
      'SELECT s, i::text, v, n::text, r, coupon, qty FROM public.plan_widen WHERE id = 3',
    );
    expect(row).toEqual({
      s: 40000,
      i: '5000000000',
      v: 'twelve chars',
      n: '1234567890.12',
      r: 1.000000000001,
      coupon: 'SAVE10',
      qty: 7,
    });
  });

  it('refuses destructive changes without --allow-destructive and never sets NOT NULL over NULLs', async () => {
    const run = await inlet('apply', '--config', v2, '--pipeline', 'narrow', '--yes');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('refused, destructive (inlet apply --allow-destructive runs them):');
    expect(run.stderr).toContain('Left out 5 changes');
    const columns = await query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'plan_narrow' ORDER BY ordinal_position",
    );
    expect(columns.map((c) => c.column_name)).toContain('legacy');
  });

  it('with --allow-destructive, prints what will be lost, then loses exactly that', async () => {
    const run = await inlet(
      'apply',
      '--config',
      v2,
      '--pipeline',
      'narrow',
      '--yes',
      '--allow-destructive',
      '--json',
    );
    // The blocked SET NOT NULL is still left out.
    expect(run.code, run.stderr).toBe(1);
    const [result] = jsonLines(run.stdout);
    expect(result?.applied).toHaveLength(4);
    expect(run.stderr).toContain('Applied the rest, but left out 1 change');
    const rows = await query<Record<string, unknown>>(
      'SELECT id, code, big, amount::text AS amount FROM public.plan_narrow ORDER BY id',
    );
    expect(rows).toEqual([
      { id: '1', code: 'ABC', big: 1, amount: '12.3' },
      { id: '2', code: null, big: null, amount: null },
      { id: '3', code: '', big: 5, amount: '1.5' },
    ]);
    const plan = await inlet('plan', '--config', v2, '--pipeline', 'narrow', '--json');
    expect(plan.code).toBe(1);
    const [after] = jsonLines(plan.stdout);
    expect(after).toMatchObject({ changes: [], destructive: [] });
    expect(after?.blocked).toHaveLength(1);
  });
});

describe('a load into a table out of date with its contract', () => {
  it('fails naming the missing column and inlet plan, not quoting PostgreSQL', async () => {
    await workspace.db.pool.query('ALTER TABLE public.plan_drifted DROP COLUMN label');
    await writeFile(inDir('drifted-2.csv'), 'id,qty,label\n2,3,b\n');
    const run = await inlet('ingest', inDir('drifted-2.csv'), '--config', v1, '--json');
    expect(run.code).toBe(1);
    const [result] = jsonLines(run.stdout);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'table_mismatch' } });
    const message = String((result?.error as { message?: string } | undefined)?.message);
    expect(message).toContain('column "label" is missing from the table');
    expect(message).toContain('Run inlet plan');
    expect(message).not.toContain('does not exist');
    const plan = await inlet('plan', '--config', v1, '--pipeline', 'drifted');
    expect(plan.stdout).toContain('ADD COLUMN "label" text');
    expect((await inlet('apply', '--config', v1, '--pipeline', 'drifted', '--yes')).code).toBe(0);
  });

  it("fails naming a column whose type can no longer hold the contract's values", async () => {
    await workspace.db.pool.query('ALTER TABLE public.plan_drifted ALTER COLUMN qty TYPE smallint');
    await writeFile(inDir('drifted-3.csv'), 'id,qty,label\n3,70000,c\n');
    const run = await inlet('ingest', inDir('drifted-3.csv'), '--config', v1, '--json');
    expect(run.code).toBe(1);
    const [result] = jsonLines(run.stdout);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'table_mismatch' } });
    expect(String((result?.error as { message?: string } | undefined)?.message)).toContain(
      'column "qty" is smallint in the table but integer in the contract',
    );
  });
});
