// Bundles the Lambda handler into dist-deploy/lambda/index.mjs (ESM, Node 22 runtime), without Docker.
// Deployment bundles live in dist-deploy/, apart from `npm run build`'s compiled CLI in dist/.
// Usage: node scripts/build-lambda.mjs [outfile]   (outfile relative to the current directory)
//
// What the handler imports on demand (the Parquet and XLSX readers, the SNS and Secrets Manager
// clients) goes into chunks/ beside it: a cold start compiles only index.mjs, and a chunk is compiled
// the first time a file needs it. Compiling is most of a cold start's import time.
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { englishOnlyZod, nodeBundleOptions, pgNodeCrypto } from './node-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile =
  process.argv[2] === undefined ? join(root, 'dist-deploy/lambda/index.mjs') : resolve(process.argv[2]);
const outdir = dirname(outfile);
// Chunks are named by content hash: stale ones from an earlier build must not ship.
await rm(join(outdir, 'chunks'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: [{ in: 'src/serverless/lambda.ts', out: basename(outfile, extname(outfile)) }],
  outdir,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // Lambda reads .mjs as ESM without a package.json beside it.
  outExtension: { '.js': '.mjs' },
  ...nodeBundleOptions,
  plugins: [englishOnlyZod, pgNodeCrypto],
});
const { size } = await stat(outfile);
let total = size;
for (const chunk of await readdir(join(outdir, 'chunks'), { withFileTypes: true }).catch(() => [])) {
  if (chunk.isFile()) total += (await stat(join(outdir, 'chunks', chunk.name))).size;
}
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
console.log(
  `${relative(process.cwd(), outfile)}: ${mb(size)} (${mb(total)} with the chunks it loads on demand)`,
);
