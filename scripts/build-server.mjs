// Bundles the `inlet` CLI (whose `serve` command is the server shape) into dist-deploy/server/, the
// directory the CDK app ships to the EC2 instances as an asset: lib/cli/main.mjs (ESM, Node 22) and beside it
// drain-thread.js (the upload workers' thread, src/server/drain-thread.ts), a package.json
// carrying the version (the CLI reads it from ../../package.json, as from dist/cli/main.js) and the
// dashboard's static files (served from ../../dashboard/, as from src/server/routes/). No Docker.
// Deployment bundles live in dist-deploy/, never in dist/: dist/ is `npm run build`'s compiled CLI, whose
// own dist/server/ (src/server/) this script would otherwise delete, breaking `npx inlet`.
// Usage: node scripts/build-server.mjs [outdir]   (outdir relative to the current directory)
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { nodeBundleOptions } from './node-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = process.argv[2] === undefined ? join(root, 'dist-deploy/server') : resolve(process.argv[2]);
const outfile = join(outdir, 'lib/cli/main.mjs');
await rm(outdir, { recursive: true, force: true });
await mkdir(join(outdir, 'lib/cli'), { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile,
  ...nodeBundleOptions,
});
// The upload service's workers run in a thread of their own, started from this file (src/server/drain-host.ts
// finds it beside the bundle, as drain-thread.js beside drain-host.js in dist/).
await build({
  absWorkingDir: root,
  entryPoints: ['src/server/drain-thread.ts'],
  outfile: join(outdir, 'lib/cli/drain-thread.js'),
  ...nodeBundleOptions,
});
await cp(join(root, 'src/dashboard'), join(outdir, 'dashboard'), { recursive: true });
const { name, version, license } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
await writeFile(
  join(outdir, 'package.json'),
  `${JSON.stringify({ name, version, license, type: 'module', private: true }, null, 2)}\n`,
);
const { size } = await stat(outfile);
console.log(`${relative(process.cwd(), outfile)}: ${(size / 1024 / 1024).toFixed(2)} MB`);
