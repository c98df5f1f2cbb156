/**
 * `inlet contracts <pipeline>` on a real PostgreSQL: version 1 from the configuration, then the version each
 * evolving file made (onDrift: evolve) with its columns, its DDL and its origin (ingestion, file, time), as
 * text and as one JSON object per version; `inlet ingest` says which columns a file added; and `inlet plan`
 * counts the evolved columns as the contract's, proposing no drop.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from '../../harness/cli.js';
import { cliWorkspace } from '../../harness/cli-workspace.js';

const workspace = cliWorkspace('inlet-cli-contracts-');
const { inlet } = workspace;
const inDir = (name: string) => join(workspace.dir, name);

const CONFIG = `pipelines:
  - name: partners
    match: ["partners*.csv"]
    table: public.partners
    createTable: true
    onDrift: evolve
    columns:
      - { name: id, type: bigint, nullable: false }
      - { name: amount, type: "numeric(12,2)" }
  - name: guessed
    match: ["guessed*.csv"]
    table: public.guessed
    infer: true
    onDrift: evolve
  - name: frozen
    match: ["frozen*.csv"]
    table: public.frozen
    createTable: true
    onDrift: freeze
    columns:
      - { name: id, type: bigint, nullable: false }
`;

let config: string;
let first: string;
let second: string;

beforeAll(async () => {
  config = inDir('inlet.config.yaml');
  await writeFile(config, CONFIG);
  await writeFile(inDir('partners-1.csv'), 'id,amount,Sales Channel\n1,2.50,web\n');
  await writeFile(inDir('partners-2.csv'), 'id,shipped_on,units\n2,2026-12-01,4\n');
  first = inDir('partners-1.csv');
  second = inDir('partners-2.csv');
});

describe('inlet contracts', () => {
  it('lists version 1 alone before any file evolved the contract', async () => {
    const run = await inlet('contracts', 'partners', '--config', config);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        'Contract of pipeline "partners" (table public.partners, onDrift: evolve): 1 version',
        '',
        `version 1  the configuration (${config})`,
        '  "id" bigint NOT NULL',
        '  "amount" numeric(12,2)',
        '',
      ].join('\n'),
    );
  });

  it('lists each version a file made, with its columns, DDL and origin; ingest says what it added', async () => {
    const loadFirst = await inlet('ingest', first, '--config', config);
    expect(loadFirst.code, loadFirst.stderr).toBe(0);
    expect(loadFirst.stdout + loadFirst.stderr).toContain(
      'added column "sales_channel" text (from "Sales Channel"): contract version 2',
    );
    const loadSecond = await inlet('ingest', second, '--config', config);
    expect(loadSecond.code, loadSecond.stderr).toBe(0);

    const json = await inlet('contracts', 'partners', '--config', config, '--json');
    expect(json.code, json.stderr).toBe(0);
    const versions = jsonLines(json.stdout);
    expect(versions).toEqual([
      {
        pipeline: 'partners',
        version: 1,
        origin: 'configuration',
        config,
        columns: [
          { name: 'id', type: 'bigint', source: 'id', nullable: false },
          { name: 'amount', type: 'numeric(12,2)', source: 'amount', nullable: true },
        ],
      },
      {
        pipeline: 'partners',
        version: 2,
        origin: 'ingestion',
        table: 'public.partners',
        ingestionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        source: pathToFileURL(first).href,
        createdAt: expect.any(String),
        columns: [{ name: 'sales_channel', type: 'text', source: 'Sales Channel' }],
        ddl: 'ALTER TABLE "public"."partners" ADD COLUMN "sales_channel" text',
      },
      {
        pipeline: 'partners',
        version: 3,
        origin: 'ingestion',
        table: 'public.partners',
        ingestionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        source: pathToFileURL(second).href,
        createdAt: expect.any(String),
        columns: [
          { name: 'shipped_on', type: 'date', source: 'shipped_on' },
          { name: 'units', type: 'bigint', source: 'units' },
        ],
        ddl: 'ALTER TABLE "public"."partners" ADD COLUMN "shipped_on" date, ADD COLUMN "units" bigint',
      },
    ]);
    // The ingestion ids are the ledger's.
    const ledger = await workspace.db.pool.query<{ id: string }>(
      "SELECT id FROM inlet.ingestions WHERE pipeline = 'partners' ORDER BY finished_at",
    );
    expect(versions.slice(1).map((v) => v.ingestionId)).toEqual(ledger.rows.map((r) => r.id));

    const text = await inlet('contracts', 'partners', '--config', config);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe(
      'Contract of pipeline "partners" (table public.partners, onDrift: evolve): 3 versions',
    );
    const short = (v: Record<string, unknown>) => String(v.ingestionId).slice(-8);
    expect(lines.slice(5)).toEqual([
      '',
      expect.stringMatching(
        new RegExp(
          `^version 2  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  added by ingestion ${short(versions[1] ?? {})} from file://.*partners-1\\.csv$`,
        ),
      ),
      '  + "sales_channel" text (from "Sales Channel")',
      '  ALTER TABLE "public"."partners" ADD COLUMN "sales_channel" text;',
      '',
      expect.stringMatching(
        new RegExp(`^version 3  .*  added by ingestion ${short(versions[2] ?? {})} from `),
      ),
      '  + "shipped_on" date',
      '  + "units" bigint',
      '  ALTER TABLE "public"."partners" ADD COLUMN "shipped_on" date, ADD COLUMN "units" bigint;',
      '',
    ]);
  });

  it('has inlet plan count the evolved columns as the contract: nothing to do', async () => {
    const run = await inlet('plan', '--config', config, '--pipeline', 'partners');
    expect(run.stdout).toContain('Nothing to do');
    expect(run.code).toBe(0);
  });

  it('has inlet plan say where a column came from once the pipeline no longer evolves', async () => {
    const frozen = inDir('frozen.config.yaml');
    await writeFile(frozen, CONFIG.replace('onDrift: evolve', 'onDrift: freeze'));
    const run = await inlet('plan', '--config', frozen, '--pipeline', 'partners', '--json');
    expect(run.code).toBe(1);
    const [plan] = jsonLines(run.stdout);
    const drop = ((plan?.destructive ?? []) as { column: string; reason: string }[]).find(
      (step) => step.column === 'sales_channel',
    );
    expect(drop?.reason).toContain(
      `(contract version 2 added it from ${pathToFileURL(first).href} under onDrift: evolve, which the pipeline no longer has: list it in the pipeline's columns, or set onDrift: evolve again, to keep it)`,
    );
  });

  it('says how a pipeline that does not evolve gets versions, and refuses an unknown pipeline', async () => {
    const frozen = await inlet('contracts', 'frozen', '--config', config);
    expect(frozen.code).toBe(0);
    expect(frozen.stdout).toContain('onDrift: reject): 1 version');
    expect(frozen.stdout).toContain('With onDrift: evolve, a file that brings a new column adds it here');
    const unknown = await inlet('contracts', 'nope', '--config', config);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown pipeline "nope"; known pipelines: partners, guessed, frozen');
  });

  it('shows version 1 of an infer: true pipeline as the file that decided it', async () => {
    await writeFile(inDir('guessed-1.csv'), 'id,name\n1,ann\n');
    await writeFile(inDir('guessed-2.csv'), 'id,name,email\n2,bob,b@example.com\n');
    for (const file of ['guessed-1.csv', 'guessed-2.csv']) {
      const run = await inlet('ingest', inDir(file), '--config', config);
      expect(run.code, run.stderr).toBe(0);
    }
    const run = await inlet('contracts', 'guessed', '--config', config, '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(jsonLines(run.stdout)).toMatchObject([
      {
        version: 1,
        origin: 'inferred',
        source: pathToFileURL(inDir('guessed-1.csv')).href,
        columns: [
          { name: 'id', type: 'smallint', source: 'id' },
          { name: 'name', type: 'text', source: 'name' },
        ],
      },
      { version: 2, origin: 'ingestion', columns: [{ name: 'email', type: 'text', source: 'email' }] },
    ]);
    const text = await inlet('contracts', 'guessed', '--config', config);
    expect(text.stdout).toMatch(
      /\nversion 1 {2}.* {2}inferred by ingestion [0-9a-f]{8} from file:\/\/.*guessed-1\.csv\n {2}"id" smallint\n/,
    );
  });

  it('explains itself in --help', async () => {
    const run = await inlet('contracts', '--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: inlet contracts [options] <pipeline>');
    expect(run.stdout).toContain('Under onDrift: evolve, each file that');
    expect(run.stdout).toContain('inlet contracts orders --json');
  });
});
