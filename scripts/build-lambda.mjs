// Bundles the Lambda handler into dist/lambda/index.mjs (ESM, Node 22 runtime), without Docker.
// Usage: node scripts/build-lambda.mjs [outfile]
//
// What the handler imports on demand (the Parquet and XLSX readers, the SNS and Secrets Manager
// clients) goes into chunks/ beside it: a cold start compiles only index.mjs, and a chunk is compiled
// the first time a file needs it. Compiling is most of a cold start's import time.
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { build } from 'esbuild';
import { nodeBundleOptions } from './node-bundle.mjs';

/**
 * zod re-exports every message locale (about 300 KB minified), which the function would compile at
 * every cold start; its messages are only ever shown in English, so only `en` is kept.
 */
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

const outfile = process.argv[2] ?? 'dist/lambda/index.mjs';
const outdir = dirname(outfile);
// Chunks are named by content hash: stale ones from an earlier build must not ship.
await rm(join(outdir, 'chunks'), { recursive: true, force: true });
await build({
  absWorkingDir: new URL('..', import.meta.url).pathname,
  entryPoints: [{ in: 'src/serverless/lambda.ts', out: basename(outfile, extname(outfile)) }],
  outdir,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // Lambda reads .mjs as ESM without a package.json beside it.
  outExtension: { '.js': '.mjs' },
  ...nodeBundleOptions,
  plugins: [englishOnlyZod],
});
const { size } = await stat(outfile);
let total = size;
for (const chunk of await readdir(join(outdir, 'chunks'), { withFileTypes: true }).catch(() => [])) {
  if (chunk.isFile()) total += (await stat(join(outdir, 'chunks', chunk.name))).size;
}
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
console.log(`${outfile}: ${mb(size)} (${mb(total)} with the chunks it loads on demand)`);
