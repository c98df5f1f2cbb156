/**
 * Building for deployment leaves the compiled CLI alone. In a copy of the checkout: `npm run build`
 * (the CLI in dist/), then what `npm run synth` does (`npm run build:lambda`, `npm run build:server`, the
 * CDK app), then `inlet ingest` from dist/. When the server bundle was written to dist/server/, it deleted
 * the CLI's own dist/server/ (src/server/) and `npx inlet` failed with ERR_MODULE_NOT_FOUND
 * (dist/server/settings.js) until the next `npm run build`.
 *
 * The CDK app runs as `cdk synth` runs it (cdk.json's `app` command with cdk.json's context), not through
 * the cdk CLI, which would ask the network for notices and send telemetry.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, ROOT } from '../../harness/cli.js';
import { cliWorkspace } from '../../harness/cli-workspace.js';

const workspace = cliWorkspace('inlet-build-outputs-');

/** What a clone holds that the builds and the CDK app read; node_modules is linked, not copied. */
const CHECKOUT = [
  // The hand-over task's image: the CDK app stages its build context when it synthesizes.
  '.dockerignore',
  'Dockerfile',
  'bin',
  'examples',
  'infra',
  'scripts',
  'src',
  'cdk.json',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
];

let checkout: string;
let cdkOut: string;
/** Every file `npm run build` wrote, with its content's hash. */
let built: Map<string, string>;

beforeAll(async () => {
  checkout = await mkdtemp(join(tmpdir(), 'inlet-checkout-'));
  for (const entry of CHECKOUT) await cp(join(ROOT, entry), join(checkout, entry), { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  cdkOut = join(checkout, 'synth-out');
});

afterAll(async () => {
  if (checkout) await rm(checkout, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd: checkout,
        env: {
          ...workspace.env,
          // npm and npx must not look for a newer npm on the registry.
          npm_config_update_notifier: 'false',
          PATH: `${join(checkout, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
          ...env,
        },
        maxBuffer: 16 << 20,
        timeout: 280_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function npmRun(script: string): Promise<void> {
  const result = await run('npm', ['run', script, '--silent']);
  expect(result, `npm run ${script}`).toMatchObject({ code: 0 });
}

/** The files under `dir` (relative paths) with the SHA-256 of each. */
async function hashes(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(
      relative(dir, path),
      createHash('sha256')
        .update(await readFile(path))
        .digest('hex'),
    );
  }
  return files;
}

let ingests = 0;

/** The files of dist/ that are gone or differ from what `npm run build` wrote. */
async function distChanges(): Promise<string[]> {
  const now = await hashes(join(checkout, 'dist'));
  return [...built].filter(([path, hash]) => now.get(path) !== hash).map(([path]) => `dist/${path}`);
}

/** The CLI from dist/, as `npx inlet` runs it, loading a new orders file with the example pipelines. */
async function ingestWithDist(): Promise<void> {
  ingests++;
  const file = join(workspace.dir, `orders-${ingests}.csv`);
  await writeFile(
    file,
    `order_id,placed_at,Customer Name,amount,paid\n${ingests},2024-03-25T17:19:00Z,Ada,1.50,true\n`,
  );
  const result = await run(process.execPath, [
    'bin/inlet.cjs',
    'ingest',
    file,
    '--config',
    'examples/inlet.config.yaml',
    '--json',
  ]);
  expect(result.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
  expect(result.code, result.stderr).toBe(0);
  expect(jsonLines(result.stdout)).toEqual([
    expect.objectContaining({ pipeline: 'orders', status: 'loaded', rowsLoaded: 1 }),
  ]);
}

const TIMEOUT = 300_000;

describe('the deployment bundles and the compiled CLI', () => {
  it(
    '`npm run build` compiles the CLI into dist/ and bundles it into dist/bundle/, and `inlet ingest` runs from it',
    async () => {
      await npmRun('build');
      built = await hashes(join(checkout, 'dist'));
      expect(built.has('cli/main.js')).toBe(true);
      expect(built.has('server/settings.js')).toBe(true);
      // The upload workers' thread, which the bundle starts from dist/ (src/server/drain-host.ts).
      expect(built.has('server/drain-thread.js')).toBe(true);
      expect(built.has('bundle/main.cjs')).toBe(true);
      expect(built.has('bundle/cli.cjs')).toBe(true);
      // The bundle finds package.json where dist/cli/main.js does (scripts/build-cli.mjs).
      const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      // package.json's bin, and the ES module entry older scripts name.
      for (const bin of ['bin/inlet.cjs', 'bin/inlet.mjs']) {
        expect(await run(process.execPath, [bin, '--version'])).toMatchObject({
          code: 0,
          stdout: `${version}\n`,
        });
      }
      await ingestWithDist();
      // The commands left the compiled code of the bundle's files they ran for the next one (bundle-loader.ts).
      const cached = [...(await hashes(join(checkout, 'dist/bundle/code-cache'))).keys()];
      expect(cached.some((path) => /(^|[\\/])cli\.cjs\.\d+\.\d+\.v8$/.test(path))).toBe(true);
      expect(cached.some((path) => /(^|[\\/])ingest-\w+\.cjs\.\d+\.\d+\.v8$/.test(path))).toBe(true);
    },
    TIMEOUT,
  );

  it(
    '`npm run build:lambda` and `npm run build:server` write to dist-deploy/ and leave dist/ as the build left it',
    async () => {
      await npmRun('build:lambda');
      await npmRun('build:server');
      expect(await distChanges()).toEqual([]);
      await ingestWithDist();
      const deploy = await hashes(join(checkout, 'dist-deploy'));
      expect(deploy.has('lambda/index.mjs')).toBe(true);
      expect(deploy.has('server/lib/cli/main.mjs')).toBe(true);
      // The upload workers' thread, which the server starts from beside main.mjs (src/server/drain-host.ts).
      expect(deploy.has('server/lib/cli/drain-thread.js')).toBe(true);
      expect(deploy.has('server/package.json')).toBe(true);

      // The bundled CLI runs from its own folder: it reads the version from the package.json beside it.
      const version = await run(process.execPath, ['dist-deploy/server/lib/cli/main.mjs', '--version']);
      const { version: expected } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      expect(version).toMatchObject({ code: 0, stdout: `${expected}\n` });
    },
    TIMEOUT,
  );

  it(
    'the CDK app ships those bundles as its assets, and `inlet ingest` still runs from dist/ after it',
    async () => {
      const cdkJson = JSON.parse(await readFile(join(checkout, 'cdk.json'), 'utf8')) as {
        app: string;
        context: Record<string, unknown>;
      };
      await mkdir(cdkOut);
      const synth = await run('sh', ['-c', cdkJson.app], {
        CDK_OUTDIR: cdkOut,
        CDK_CONTEXT_JSON: JSON.stringify(cdkJson.context),
      });
      expect(synth.code, synth.stderr).toBe(0);
      expect(await distChanges()).toEqual([]);
      await ingestWithDist();

      // CDK copies each directory asset into the output as it is: the bundles must be among them.
      const deploy = await hashes(join(checkout, 'dist-deploy'));
      const assets = await Promise.all(
        (await readdir(cdkOut, { withFileTypes: true }))
          .filter((entry) => entry.isDirectory() && entry.name.startsWith('asset.'))
          .map((entry) => hashes(join(cdkOut, entry.name))),
      );
      const shipped = (prefix: string) =>
        new Map(
          [...deploy]
            .filter(([path]) => path.startsWith(prefix))
            .map(([p, h]) => [p.slice(prefix.length), h]),
        );
      expect(assets).toContainEqual(shipped('lambda/'));
      expect(assets).toContainEqual(shipped('server/'));
    },
    TIMEOUT,
  );

  // Last: it changes a source of the checkout, which the builds above read.
  it(
    "`npm start`'s build runs only when a source changed since the last build that finished",
    async () => {
      const buildIfChanged = () => run(process.execPath, ['scripts/build.mjs', '--if-changed']);
      const source = join(checkout, 'src/cli/format.ts');
      const compiled = join(checkout, 'dist/cli/format.js');
      const original = await readFile(source, 'utf8');

      // Nothing changed since `npm run build`: nothing is written.
      const builtAt = (await stat(compiled)).mtimeMs;
      expect(await buildIfChanged()).toMatchObject({ code: 0 });
      expect((await stat(compiled)).mtimeMs).toBe(builtAt);
      // The same bytes written again are no change.
      await writeFile(source, original);
      expect(await buildIfChanged()).toMatchObject({ code: 0 });
      expect((await stat(compiled)).mtimeMs).toBe(builtAt);

      const changed = `${original}\n// changed after the build\n`;
      await writeFile(source, changed);
      expect(await buildIfChanged()).toMatchObject({ code: 0 });
      expect(await readFile(compiled, 'utf8')).toContain('// changed after the build');

      // A build that fails part-way (tsc still writes dist/) is not taken for a finished one: with the
      // source put back as the last finished build had it, the next build runs again.
      await writeFile(source, `${changed}export const broken: number = 'not a number';\n`);
      expect((await buildIfChanged()).code).not.toBe(0);
      expect(await readFile(compiled, 'utf8')).toContain('broken');
      await writeFile(source, changed);
      expect(await buildIfChanged()).toMatchObject({ code: 0 });
      expect(await readFile(compiled, 'utf8')).not.toContain('broken');
      await ingestWithDist();
    },
    TIMEOUT,
  );
});
