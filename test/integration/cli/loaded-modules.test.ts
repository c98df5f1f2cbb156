/**
 * A command loads only what it uses (issue 16): `inlet --help` and `inlet ingest` of a local file start
 * without the upload server, the metrics, the scheduler, the snapshots or the AWS SDK. Each `inlet` runs
 * with test/harness/module-log.mjs preloaded, which writes down every module the process loaded.
 * Loading one of them again shows here as its name, whatever it costs on the clock.
 *
 * Both shapes of the CLI are checked: the compiled files (one module per source file) and the bundle that
 * bin/inlet.cjs runs (scripts/build-cli.mjs), whose files each hold many sources: esbuild's metafile says
 * which, so a file of the bundle counts as every source and package in it. The bundle's loader
 * (src/cli/bundle-loader.ts) runs its files as classic scripts and lists them in require.cache, where the
 * log reads them; the second command of each kind compiles them from the code the first one left.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../../harness/cli.js';
import { cliWorkspace } from '../../harness/cli-workspace.js';

const run = promisify(execFile);
const workspace = cliWorkspace('inlet-modules-');
const MODULE_LOG = join(ROOT, 'test/harness/module-log.mjs');

/** Packages that only the server (its SFTP door too), the metrics, the scheduler, S3 sources or snapshots need. */
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
  'ssh2',
];

/**
 * Inlet's own folders that `inlet ingest` of a local file never needs: `inlet plan` and `inlet apply`'s code
 * (engine/reconcile/) is read by a load only when its table turns out not to match the contract.
 */
const FOREIGN_FOLDERS = [
  'server/',
  'serverless/',
  'gateway/',
  'local/',
  'snapshots/',
  'db/embedded',
  'engine/reconcile/',
  'cli/plan-output',
];

interface Loaded {
  /** Package names, scopes included. */
  readonly packages: ReadonlySet<string>;
  /** Inlet's own modules, relative to the compiled tree (cli/main.js, engine/ingest.js…). */
  readonly ownFiles: readonly string[];
}

/** The package a file of node_modules belongs to (the innermost node_modules), scope included. */
function packageOf(file: string): string | undefined {
  const matches = [...file.matchAll(/(?:^|[\\/])node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/g)];
  return matches.at(-1)?.[1]?.replace('\\', '/');
}

/** A shape of the CLI: its entry, and what a file it loaded stands for (sources as their dist/ names). */
interface Shape {
  readonly entry: string;
  readonly contents: (file: string) => readonly string[];
  /** The bundle's folder of compiled code (bundle-loader.ts), emptied before each command. */
  readonly codeCache?: string;
}

/** The compiled files: each is itself, relative to the compiled tree (cli/main.js, engine/ingest.js…). */
function compiledShape(): Shape {
  const compiledRoot = dirname(dirname(inject('cliEntry')));
  return {
    entry: inject('cliEntry'),
    contents: (file) =>
      file.startsWith(compiledRoot) && !file.includes('node_modules')
        ? [relative(compiledRoot, file).replaceAll('\\', '/')]
        : [],
  };
}

/** The bundle, built beside the compiled tree as dist/bundle/ is beside dist/cli/. */
async function bundleShape(): Promise<Shape> {
  const dir = join(dirname(dirname(inject('cliEntry'))), 'bundle');
  const metafile = `${dir}.meta.json`;
  await mkdir(dir, { recursive: true });
  await run(process.execPath, [join(ROOT, 'scripts/build-cli.mjs'), dir, '--metafile', metafile], {
    cwd: ROOT,
    timeout: 120_000,
  });
  const { outputs } = JSON.parse(await readFile(metafile, 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const sources = new Map<string, string[]>();
  for (const [output, { inputs }] of Object.entries(outputs)) {
    sources.set(
      join(ROOT, output),
      Object.keys(inputs).map((input) =>
        input.startsWith('src/') ? input.slice('src/'.length).replace(/\.ts$/, '.js') : input,
      ),
    );
  }
  return {
    entry: join(dir, 'main.cjs'),
    contents: (file) => sources.get(file) ?? [],
    codeCache: join(dir, 'code-cache'),
  };
}

/** Runs node with the module log preloaded; returns its output and what it loaded. */
async function loadedBy(
  name: string,
  args: readonly string[],
  shape?: Shape,
  cwd = workspace.dir,
): Promise<Loaded & { stdout: string; files: string[] }> {
  const log = join(workspace.dir, `${name}.modules`);
  await writeFile(log, '');
  const { stdout } = await run(process.execPath, ['--import', MODULE_LOG, ...args], {
    cwd,
    env: { ...workspace.env, INLET_TEST_MODULE_LOG: log },
    timeout: 50_000,
  });
  return { stdout, ...readLog(await readFile(log, 'utf8'), shape) };
}

function readLog(text: string, shape: Shape | undefined): Loaded & { files: string[] } {
  const files = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('node:'))
    .map((line) => (line.startsWith('file:') ? fileURLToPath(line) : line));
  const packages = new Set<string>();
  const ownFiles = new Set<string>();
  for (const file of files) {
    for (const part of [file, ...(shape?.contents(file) ?? [])]) {
      const name = packageOf(part);
      if (name !== undefined) packages.add(name);
      else if (part !== file) ownFiles.add(part);
    }
  }
  return { files, packages, ownFiles: [...ownFiles] };
}

/** The built-in modules (process.moduleLoadList at exit) whose names hold `part`, that a command loaded. */
async function builtinsLoaded(
  name: string,
  args: readonly string[],
  part: string,
): Promise<{ stdout: string; builtins: string[] }> {
  const preload = join(workspace.dir, 'builtins-log.cjs');
  await writeFile(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(process.env.INLET_TEST_BUILTINS_LOG, process.moduleLoadList.filter((m) => m.includes(process.env.INLET_TEST_BUILTINS_PART)).join('\\n')));`,
  );
  const log = join(workspace.dir, `${name}.builtins`);
  const { stdout } = await run(process.execPath, ['--require', preload, ...args], {
    cwd: workspace.dir,
    env: { ...workspace.env, INLET_TEST_BUILTINS_LOG: log, INLET_TEST_BUILTINS_PART: part },
    timeout: 50_000,
  });
  const text = await readFile(log, 'utf8');
  return { stdout, builtins: text === '' ? [] : text.split('\n').sort() };
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
});

describe('the modules a command loads', () => {
  it('the log sees a package as soon as a process imports it (the check below can fail)', async () => {
    const loaded = await loadedBy(
      'control',
      ['--input-type=module', '-e', "await import('prom-client'); await import('fastify');"],
      undefined,
      ROOT,
    );
    expect(loaded.packages).toContain('prom-client');
    expect(loaded.packages).toContain('fastify');
  });
});

describe.each([
  ['compiled files', 'compiled', async () => compiledShape()],
  ['bundle', 'bundle', bundleShape],
])('the modules a command loads from the %s', (_, name, build) => {
  let shape: Shape;
  beforeAll(async () => {
    shape = await build();
    // A file of its own: the same bytes again would be a duplicate, which loads less.
    await writeFile(join(workspace.dir, `${name}.csv`), `order_id,amount\n1,10.50\n2,${name.length}.00\n`);
  }, 120_000);

  it('inlet --help loads the command definitions and nothing a command runs', async () => {
    if (shape.codeCache !== undefined) await rm(shape.codeCache, { recursive: true, force: true });
    const loaded = await loadedBy(`${name} help`, [shape.entry, '--help'], shape);
    expect(loaded.stdout).toContain('Usage: inlet');
    expect(loaded.ownFiles).toContain('cli/main.js');
    expect(loaded.ownFiles).toContain('cli/commands/ingest.js');
    expect([...loaded.packages].sort()).toEqual(['commander']);
    expect(loaded.ownFiles.filter((file) => file.startsWith('cli/run/'))).toEqual([]);
  });

  it('inlet sftp-users add loads ssh2 and reads a key with it (ssh2 names its own folder as it loads)', async () => {
    const key = join(workspace.dir, `${name}_key`);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key], { timeout: 20_000 });
    const loaded = await loadedBy(
      `${name} sftp-users`,
      [
        shape.entry,
        'sftp-users',
        'add',
        `partner-${name}`,
        '--ssh-key',
        `${key}.pub`,
        '--pipeline',
        'modules_orders',
      ],
      shape,
    );
    expect(loaded.stdout).toMatch(new RegExp(`added SFTP user "partner-${name}"`, 'i'));
    expect(loaded.packages).toContain('ssh2');
  });

  it('inlet ingest of a local file loads the engine and none of the server, metrics, scheduler or AWS SDK', async () => {
    const loaded = await loadedBy(`${name} ingest`, [shape.entry, 'ingest', `${name}.csv`, '--json'], shape);
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

  // The test database signs in with SCRAM-SHA-256 (src/db/embedded/cluster.ts). pg 8.23 does its arithmetic
  // through Web Crypto, whose first use loads a dozen more of Node's modules; the bundle has pg's file
  // replaced by src/db/pg-node-crypto.ts (scripts/node-bundle.mjs says why). The compiled files keep pg's
  // own: they load Web Crypto, so the check can fail.
  it('inlet ingest signs in with a password, through Web Crypto only from the compiled files', async () => {
    await writeFile(join(workspace.dir, `${name}-sign-in.csv`), `order_id,amount\n3,${name.length}.25\n`);
    const { stdout, builtins } = await builtinsLoaded(
      `${name} sign-in`,
      [shape.entry, 'ingest', `${name}-sign-in.csv`, '--json'],
      'crypto/webcrypto',
    );
    expect(JSON.parse(stdout)).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
    expect(builtins).toEqual(name === 'bundle' ? [] : ['NativeModule internal/crypto/webcrypto']);
  });

  // The bundle's loader is CommonJS (bin/inlet.cjs says why): a command from it runs without the parts of
  // Node's ES module loader that an ES module entry starts, each a compile at every start.
  if (name === 'bundle')
    it('a command from the bundle starts none of the ES module loader that node -e 0 does not', async () => {
      const esmParts = async (name: string, args: readonly string[]) =>
        (await builtinsLoaded(name, args, 'modules/esm/')).builtins;
      const bare = await esmParts('bare', ['-e', '0']);
      const help = await esmParts('bundle-help', [shape.entry, '--help']);
      expect(help).toEqual(bare);
      // The check can fail: an ES module entry starts more of it.
      const moduleEntry = join(workspace.dir, 'entry.mjs');
      await writeFile(moduleEntry, '');
      expect((await esmParts('module-entry', [moduleEntry])).length).toBeGreaterThan(bare.length);
    });

  // Only the bundle keeps compiled code: registered for it alone, so no run reports a skipped test.
  if (name === 'bundle')
    it('the bundle keeps the compiled code of each file a command loaded, and the next command loads the same', async () => {
      const codeCache = shape.codeCache as string;
      await rm(codeCache, { recursive: true, force: true });
      const first = await loadedBy(`${name} help 1`, [shape.entry, '--help'], shape);
      // The files the loader ran; the loader itself (main.cjs) is Node's to load, and has no entry.
      const bundleFiles = first.files
        .map((file) => basename(file))
        .filter((file) => file.endsWith('.cjs') && file !== 'main.cjs');
      expect(bundleFiles).toContain('cli.cjs');
      const [versionFolder, ...others] = await readdir(codeCache);
      expect(others).toEqual([]);
      const folder = join(codeCache, versionFolder as string);
      const entries = await readdir(folder);
      const written = async () =>
        Promise.all(entries.map(async (entry) => (await stat(join(folder, entry))).mtimeMs));
      const firstWritten = await written();
      expect(entries.map((entry) => entry.split('.cjs.')[0]).sort()).toEqual(
        bundleFiles.map((file) => file.replace(/\.cjs$/, '')).sort(),
      );

      const second = await loadedBy(`${name} help 2`, [shape.entry, '--help'], shape);
      expect(second.stdout).toBe(first.stdout);
      expect(second.files.sort()).toEqual(first.files.sort());
      // Every entry was taken: none was written again, and none added.
      expect(await written()).toEqual(firstWritten);
      expect((await readdir(folder)).sort()).toEqual([...entries].sort());
    });
});
