// `npm run build` (and `npm install`, through `prepare`): compiles src/ into dist/ with tsc, copies the
// dashboard's static files beside it, and bundles the CLI into dist/bundle/ (scripts/build-cli.mjs).
//
// `npm start` runs it with --if-changed: the build is skipped when its inputs hold the same bytes as at the
// last build that finished. A full build takes about 11 s on two cores, and `npm start` used to spend them at
// every start, before the local stack began. The inputs are what the build reads: src/, the TypeScript
// configs, package.json and its lockfile (a dependency the bundle takes in), and these build scripts.
// Their fingerprint is written to dist/.build-inputs once every step has finished, so a build cut short
// is never taken for a finished one.
//
// Usage: node scripts/build.mjs [--if-changed]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What the build reads: folders (every file in them) and single files, relative to the root. */
export const BUILD_INPUTS = [
  'src',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
  'package-lock.json',
  'scripts/build.mjs',
  'scripts/build-cli.mjs',
  'scripts/node-bundle.mjs',
];

/** Where a finished build leaves the fingerprint of its inputs. */
export const STAMP = 'dist/.build-inputs';

/** What must be in dist/ for a build to count as there at all (the entries bin/inlet.cjs looks for). */
const OUTPUTS = ['dist/bundle/main.cjs', 'dist/cli/main.js'];

/**
 * SHA-256 over each input file's path and bytes, in a fixed order: the same sources give the same
 * fingerprint whatever their modification times (a checkout or a copy changes those, not the build).
 */
export function inputsFingerprint(root = ROOT) {
  const files = [];
  for (const input of BUILD_INPUTS) {
    const path = join(root, input);
    if (!existsSync(path)) continue;
    if (!statSync(path).isDirectory()) files.push(path);
    else {
      for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
        if (entry.isFile()) files.push(join(entry.parentPath, entry.name));
      }
    }
  }
  const hash = createHash('sha256');
  for (const file of files.map((path) => relative(root, path).split(sep).join('/')).sort()) {
    const bytes = readFileSync(join(root, file));
    hash.update(`${file}\0${bytes.length}\0`).update(bytes);
  }
  return hash.digest('hex');
}

/** Whether dist/ was built, to the end, from inputs with this fingerprint. */
export function isUpToDate(fingerprint, root = ROOT) {
  if (!OUTPUTS.every((output) => existsSync(join(root, output)))) return false;
  try {
    return readFileSync(join(root, STAMP), 'utf8').trim() === fingerprint;
  } catch {
    return false;
  }
}

/** `fingerprint`: inputsFingerprint(root), taken before the build reads the inputs. */
function build(root, fingerprint) {
  // Gone first: a build that fails or is stopped part-way leaves no stamp, so the next one runs in full.
  rmSync(join(root, STAMP), { force: true });
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  rmSync(join(root, 'dist/dashboard'), { recursive: true, force: true });
  cpSync(join(root, 'src/dashboard'), join(root, 'dist/dashboard'), { recursive: true });
  execFileSync(process.execPath, [join(root, 'scripts/build-cli.mjs')], { cwd: root, stdio: 'inherit' });
  writeFileSync(join(root, STAMP), `${fingerprint}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ifChanged = process.argv.includes('--if-changed');
  const unknown = process.argv.slice(2).filter((arg) => arg !== '--if-changed');
  if (unknown.length > 0) {
    console.error(`build.mjs: unknown argument ${unknown[0]}; usage: node scripts/build.mjs [--if-changed]`);
    process.exit(2);
  }
  const fingerprint = inputsFingerprint(ROOT);
  if (!(ifChanged && isUpToDate(fingerprint, ROOT))) {
    try {
      build(ROOT, fingerprint);
    } catch {
      // tsc and esbuild have printed what failed.
      process.exit(1);
    }
  }
}
