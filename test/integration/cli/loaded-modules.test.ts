/**
 * A command loads only what it uses (issue 16): `inlet --help` and `inlet ingest` of a local file start
 * without the upload server, the metrics, the scheduler, the snapshots or the AWS SDK. Each `inlet` runs
 * with test/harness/module-log.mjs preloaded, which writes down every module the process loaded.
 * Loading one of them again shows here as its name, whatever it costs on the clock.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../../harness/cli.js';
import { cliWorkspace } from '../../harness/cli-workspace.js';

const run = promisify(execFile);
const workspace = cliWorkspace('inlet-modules-');
const MODULE_LOG = join(ROOT, 'test/harness/module-log.mjs');

/** Packages that only the server, the metrics, the scheduler, S3 sources or snapshots need. */
const HEAVY_PACKAGES = [
  'fastify',
  '@fastify/multipart',
  '@fastify/rate-limit',
  '@fastify/swagger',
  'busboy',
  'prom-client',
  'cron-parser',
  '@opentelemetry/api',
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  '@aws-sdk/client-sns',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-ec2',
  '@smithy/smithy-client',
];

/** Inlet's own folders that `inlet ingest` of a local file never needs. */
const FOREIGN_FOLDERS = ['server/', 'serverless/', 'gateway/', 'local/', 'snapshots/', 'db/embedded'];

interface Loaded {
  /** Package names, scopes included. */
  readonly packages: ReadonlySet<string>;
  /** Inlet's own modules, relative to the compiled tree (cli/main.js, engine/ingest.js…). */
  readonly ownFiles: readonly string[];
}

/** Runs node with the module log preloaded; returns its output and what it loaded. */
async function loadedBy(
  name: string,
  args: readonly string[],
  cwd = workspace.dir,
): Promise<Loaded & { stdout: string }> {
  const log = join(workspace.dir, `${name}.modules`);
  await writeFile(log, '');
  const { stdout } = await run(process.execPath, ['--import', MODULE_LOG, ...args], {
    cwd,
    env: { ...workspace.env, INLET_TEST_MODULE_LOG: log },
    timeout: 50_000,
  });
  const compiledRoot = dirname(dirname(inject('cliEntry')));
  const files = (await readFile(log, 'utf8'))
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('node:'))
    .map((line) => (line.startsWith('file:') ? fileURLToPath(line) : line));
  const packages = new Set<string>();
  for (const file of files) {
    const name = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file)?.[1];
    if (name !== undefined) packages.add(name.replace('\\', '/'));
  }
  const ownFiles = files
    .filter((file) => !file.includes('node_modules') && file.startsWith(compiledRoot))
    .map((file) => relative(compiledRoot, file).replaceAll('\\', '/'));
  return { stdout, packages, ownFiles: [...new Set(ownFiles)] };
}

beforeAll(async () => {
  await writeFile(
    join(workspace.dir, 'inlet.config.yaml'),
    `pipelines:
  - name: modules_orders
    match: ["*.csv"]
    format: csv
    table: public.modules_orders
    createTable: true
    columns:
      - { name: order_id, type: bigint }
      - { name: amount, type: "numeric(12,2)" }
`,
  );
  await writeFile(join(workspace.dir, 'orders.csv'), 'order_id,amount\n1,10.50\n2,20.00\n');
});

describe('the modules a command loads', () => {
  it('the log sees a package as soon as a process imports it (the check below can fail)', async () => {
    const loaded = await loadedBy(
      'control',
      ['--input-type=module', '-e', "await import('prom-client'); await import('fastify');"],
      ROOT,
    );
    expect(loaded.packages).toContain('prom-client');
    expect(loaded.packages).toContain('fastify');
  });

  it('inlet --help loads the command definitions and nothing a command runs', async () => {
    const loaded = await loadedBy('help', [inject('cliEntry'), '--help']);
    expect(loaded.stdout).toContain('Usage: inlet');
    expect(loaded.ownFiles).toContain('cli/main.js');
    expect(loaded.ownFiles).toContain('cli/commands/ingest.js');
    expect([...loaded.packages].sort()).toEqual(['commander']);
    expect(loaded.ownFiles.filter((file) => file.startsWith('cli/run/'))).toEqual([]);
  });

  it('inlet ingest of a local file loads the engine and none of the server, metrics, scheduler or AWS SDK', async () => {
    const loaded = await loadedBy('ingest', [inject('cliEntry'), 'ingest', 'orders.csv', '--json']);
    expect(JSON.parse(loaded.stdout)).toMatchObject({ status: 'loaded', rowsLoaded: 2 });
    expect(loaded.ownFiles).toContain('engine/ingest.js');
    expect(loaded.packages).toContain('pg');
    expect(HEAVY_PACKAGES.filter((name) => loaded.packages.has(name))).toEqual([]);
    expect(
      loaded.ownFiles.filter((file) => FOREIGN_FOLDERS.some((folder) => file.startsWith(folder))),
    ).toEqual([]);
    // Only the command that runs is imported.
    expect(loaded.ownFiles.filter((file) => file.startsWith('cli/run/'))).toEqual(['cli/run/ingest.js']);
  });
});
