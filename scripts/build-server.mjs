// Bundles the `inlet` CLI (whose `serve` command is the server shape) into dist/server/, the directory
// the CDK app ships to the EC2 instances as an asset: lib/cli/main.mjs (ESM, Node 22), a package.json
// carrying the version (the CLI reads it from ../../package.json, as from dist/cli/main.js) and the
// dashboard's static files (served from ../../dashboard/, as from src/server/routes/). No Docker.
// Usage: node scripts/build-server.mjs [outdir]
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { nodeBundleOptions } from './node-bundle.mjs';

const root = new URL('..', import.meta.url).pathname;
const outdir = process.argv[2] ?? 'dist/server';
const outfile = join(outdir, 'lib/cli/main.mjs');
await rm(outdir, { recursive: true, force: true });
await mkdir(join(outdir, 'lib/cli'), { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile,
  ...nodeBundleOptions,
});
await cp(join(root, 'src/dashboard'), join(outdir, 'dashboard'), { recursive: true });
const { name, version, license } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
await writeFile(
  join(outdir, 'package.json'),
  `${JSON.stringify({ name, version, license, type: 'module', private: true }, null, 2)}\n`,
);
const { size } = await stat(outfile);
console.log(`${outfile}: ${(size / 1024 / 1024).toFixed(2)} MB`);
