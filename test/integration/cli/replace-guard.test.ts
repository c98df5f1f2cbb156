/**
 * `inlet ingest` refuses a file that would empty a replace pipeline's table (exit 1, the reason and how to
 * allow it), and `--force` allows it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from '../../harness/cli.js';
import { cliWorkspace } from '../../harness/cli-workspace.js';

const workspace = cliWorkspace('inlet-cli-replace-');
const { inlet } = workspace;

const CONFIG = `
pipelines:
  - name: cli_customers
    match: ["customers*.csv"]
    format: csv
    table: public.cli_customers
    createTable: true
    mode: replace
    key: [id]
    columns:
      - { name: id, type: bigint }
      - { name: name, type: text }
`;

const inDir = (name: string) => join(workspace.dir, name);

beforeAll(async () => {
  await writeFile(inDir('inlet.config.yaml'), CONFIG);
  await writeFile(inDir('customers-full.csv'), 'id,name\n1,Ada\n2,Grace\n3,Edsger\n4,Barbara\n');
  await writeFile(inDir('customers-truncated.csv'), 'id,name\n');
});

async function tableIds(): Promise<string[]> {
  const result = await workspace.db.pool.query('SELECT id FROM public.cli_customers ORDER BY id');
  return result.rows.map((row: { id: string }) => String(row.id));
}

describe('inlet ingest into a replace pipeline', () => {
  it('documents --force and the replace setting in --help', async () => {
    const run = await inlet('ingest', '--help');
    expect(run.code).toBe(0);
    const help = run.stdout.replace(/\s+/g, ' ');
    expect(help).toContain(
      "--force load a file again even if these bytes were loaded before (a new ingestion), and let it shrink a replace pipeline's table past its guard",
    );
    expect(help).toContain('default replace: { minRows: 1, minRatio: 0.5 }');
    expect(help).toContain(
      '--force loads such a file anyway; replace: { minRows: 0, minRatio: 0 } in the pipeline allows any size.',
    );
  });

  it('refuses a header-only file with exit code 1 and says how to allow it; --force replaces', async () => {
    const config = inDir('inlet.config.yaml');
    const full = await inlet('ingest', inDir('customers-full.csv'), '--config', config);
    expect(full.code, full.stderr).toBe(0);
    expect(await tableIds()).toEqual(['1', '2', '3', '4']);

    const refused = await inlet('ingest', inDir('customers-truncated.csv'), '--config', config);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('✗ rejected');
    expect(refused.stdout).toContain(
      'the file has 0 rows to load; the table public.cli_customers holds 4 rows; replacing would remove them',
    );
    expect(refused.stdout).toContain('inlet ingest --force');
    expect(await tableIds()).toEqual(['1', '2', '3', '4']);

    const json = await inlet('ingest', inDir('customers-truncated.csv'), '--config', config, '--json');
    expect(json.code).toBe(1);
    expect(jsonLines(json.stdout)[0]).toMatchObject({
      status: 'rejected',
      error: { code: 'replace_guard' },
    });

    const forced = await inlet('ingest', inDir('customers-truncated.csv'), '--config', config, '--force');
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    expect(forced.stdout).toContain('✓ loaded');
    expect(await tableIds()).toEqual([]);
  });
});
