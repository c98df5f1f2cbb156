// Bundles the Lambda handler into dist/lambda/index.mjs (ESM, Node 22 runtime), without Docker.
// Usage: node scripts/build-lambda.mjs [outfile]
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
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
await mkdir(dirname(outfile), { recursive: true });
await build({
  absWorkingDir: new URL('..', import.meta.url).pathname,
  entryPoints: ['src/serverless/lambda.ts'],
  outfile,
  ...nodeBundleOptions,
  plugins: [englishOnlyZod],
});
const { size } = await stat(outfile);
console.log(`${outfile}: ${(size / 1024 / 1024).toFixed(2)} MB`);
