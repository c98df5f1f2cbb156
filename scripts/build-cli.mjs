// Bundles the `inlet` command into dist/bundle/ (Node 20), which bin/inlet.cjs runs: `npm run build` runs
// this after tsc. A command started from dist/cli/ resolves, reads and compiles some 240 files before it reads
// a byte; from the bundle it reads a dozen. What a command imports on demand (each command's work, the server,
// the AWS SDK, the Parquet and XLSX readers) stays in files of its own, loaded when used, so `inlet ingest` of
// a local CSV still compiles none of the server's code (test/integration/cli/loaded-modules.test.ts holds this
// for the bundle too).
//
// esbuild splits the bundle as ES modules; each file is then written as a classic script (toClassicScript), so
// that the loader, dist/bundle/main.cjs (src/cli/bundle-loader.ts), can keep V8's compiled code between
// commands: Node 20 does that for no ES module. The CLI's own entry is cli.cjs.
// Usage: node scripts/build-cli.mjs [outdir] [--metafile FILE]   (default dist/bundle; paths relative to the
// current directory; --metafile writes esbuild's account of which source went into which file)
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build, transform } from 'esbuild';
import {
  commanderLazyChildProcess,
  englishOnlyZod,
  nodeBundleOptions,
  pgNodeCrypto,
  pgWithoutWorkerProbe,
} from './node-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Code that finds Inlet's own files by `new URL('…', import.meta.url)` (package.json, examples/, the
 * dashboard) counts from where the file sits in src/ or dist/. Every file of the bundle sits in one folder
 * one level below the tree's root (dist/bundle/ beside dist/cli/), so each such URL is resolved from the
 * place its module has in dist/ instead: `../cli/main.js` for src/cli/main.ts.
 */
const distRelativeUrls = {
  name: 'dist-relative-urls',
  setup(pluginBuild) {
    const src = join(root, 'src') + sep;
    pluginBuild.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!args.path.startsWith(src)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const compiled = `../${relative(src, args.path).split(sep).join('/').replace(/\.ts$/, '.js')}`;
      return {
        contents: text.replace(
          /new URL\(\s*('[^']*'|"[^"]*")\s*,\s*import\.meta\.url\s*\)/g,
          (_, target) => `new URL(${target}, new URL(${JSON.stringify(compiled)}, import.meta.url))`,
        ),
        loader: 'ts',
      };
    });
  },
};

/** The banner nodeBundleOptions gives an ES module; a classic script gets its `require` from the loader. */
const ESM_BANNER = nodeBundleOptions.banner.js;

/**
 * One file of esbuild's ES module output as a classic script for src/cli/bundle-loader.ts: a function
 * expression `(__inlet_module, require, __inlet_import, __inlet_url)` whose body is the file as CommonJS
 * (esbuild's transform), strict as a module is; `module` and `exports` stay unbound there, as in a module.
 * Three things differ from esbuild's CommonJS, each checked here so that the build fails rather than ship a
 * file that would run differently:
 * - its exports are an object literal: a function declared once as itself (fixedFunction), anything else as a
 *   getter, `{ get name() { return local; } }`, so that bindings stay live as an ES module's are. esbuild's own
 *   (getters copied onto getters, added one by one) made every call from one file of the bundle into another
 *   a slow property lookup: the 1M-row load took 8-15% more CPU.
 * - `import()` goes through the loader (__inlet_import), which runs a file of the bundle or imports anything
 *   else; V8 allows import() in a classic script only with Node's experimental vm modules.
 * - `import.meta.url` is the file's URL (__inlet_url), as it was.
 * Other files of the bundle are named `./name.cjs`; `renames` maps each `./name.mjs` to it.
 */
export async function toClassicScript(esm, renames) {
  if (!esm.startsWith(ESM_BANNER)) throw new Error('an output of the CLI bundle lacks the expected banner');
  const { code, warnings } = await transform(esm.slice(ESM_BANNER.length), {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__inlet_url' },
    logLevel: 'silent',
    // asn1 (ssh2's, for the SFTP door) writes `(!strings instanceof Array)`: a bug of its own, harmless, and
    // the same code as it runs unbundled; anything else esbuild warns about still fails the build.
    logOverride: { 'suspicious-boolean-not': 'silent' },
  });
  if (warnings.length > 0) throw new Error(`converting a file of the CLI bundle: ${warnings[0].text}`);
  let body = code.replace(
    /^var (\w+) = \{\};\n__export\(\1, \{\n((?: {2}[\w$]+: \(\) => [\w$.]+,?\n)*)\}\);\nmodule\.exports = __toCommonJS\(\1\);\n/m,
    (_, _name, entries) =>
      `__inlet_module.exports = {\n${entries
        .trimEnd()
        .split('\n')
        .map((entry) => {
          const [, name, local] = /^ {2}([\w$]+): \(\) => ([\w$.]+),?$/.exec(entry) ?? [];
          return fixedFunction(code, local)
            ? `  ${name}: ${local},`
            : `  get ${name}() { return ${local}; },`;
        })
        .join('\n')}\n};\n`,
  );
  // esbuild's note for Node's CommonJS export detector, never evaluated.
  body = body.replace(/\n0 && \(module\.exports = \{[^}]*\}\);\n?$/, '\n');
  if (/^module\.exports = /m.test(body)) {
    throw new Error('a file of the CLI bundle exports in a shape toClassicScript does not know');
  }
  // `Promise.resolve().then(() => __toESM(require(X)))` is how esbuild lowers import(X): the three parentheses
  // it opens are closed after X, so `__inlet_import(((` keeps the expression whole.
  body = body.replace(/Promise\.resolve\(\)\.then\(\(\) => __toESM\d*\(require\(/g, '__inlet_import(((');
  body = body.replace(/(require\(|__inlet_import\(\(\()"(\.\/[\w-]+\.mjs)"/g, (_, call, name) => {
    const renamed = renames.get(name);
    if (renamed === undefined)
      throw new Error(`a file of the CLI bundle imports ${name}, which it does not hold`);
    return `${call}${JSON.stringify(renamed)}`;
  });
  // The wrapper on the body's first line: a stack trace's line numbers are the body's.
  // __dirname and __filename, which the bundle names __inletDirname and __inletFilename (node-bundle.mjs), are
  // the file's own, as the ES module's banner makes them.
  return `(function (__inlet_module, require, __inlet_import, __inlet_url) {"use strict";var __inletFilename = require("node:url").fileURLToPath(__inlet_url), __inletDirname = require("node:path").dirname(__inletFilename);${body}\n})\n`;
}

/**
 * Whether `local` is a function declared at the top of `code` and never assigned: its value is there when the
 * file starts (declarations are hoisted) and never changes, so the file can export it as a plain property,
 * which a call from another file reads as fast as a call within the file. A getter per call cost the 1M-row
 * load about 4% more CPU (its timestamps call twoDigits from another file seven times a value). Any
 * assignment to the name anywhere (an inner binding of the same name included) keeps the getter.
 */
function fixedFunction(code, local) {
  if (!/^[\w$]+$/.test(local)) return false;
  const name = local.replaceAll('$', '\\$');
  if (!new RegExp(`^(?:async )?function\\*? ${name}\\(`, 'm').test(code)) return false;
  const assigned = new RegExp(
    `(?<![\\w$.])${name}\\s*(?:(?:[-+*/%&|^]|\\*\\*|<<|>>>?|&&|\\|\\||\\?\\?)?=(?![=>])|\\+\\+|--)|(?:\\+\\+|--)\\s*${name}(?![\\w$])`,
  );
  return !assigned.test(code);
}

/** Builds the bundle into `outdir` (emptied first: chunks are named by content hash); returns esbuild's metafile. */
export async function buildCliBundle(outdir) {
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    ...nodeBundleOptions,
    absWorkingDir: root,
    entryPoints: [{ in: 'src/cli/main.ts', out: 'cli' }],
    outdir,
    write: false,
    splitting: true,
    // Beside cli.cjs, never in a subfolder: distRelativeUrls counts on one depth for every file.
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    // package.json's engines; readable names in the stack traces INLET_DEBUG prints.
    target: 'node20',
    minify: false,
    metafile: true,
    plugins: [
      englishOnlyZod,
      pgWithoutWorkerProbe,
      pgNodeCrypto,
      commanderLazyChildProcess,
      distRelativeUrls,
    ],
  });
  const classicName = (path) => basename(path).replace(/\.mjs$/, '.cjs');
  const renames = new Map(
    result.outputFiles.map((file) => [`./${basename(file.path)}`, `./${classicName(file.path)}`]),
  );
  await mkdir(outdir, { recursive: true });
  for (const file of result.outputFiles) {
    await writeFile(join(outdir, classicName(file.path)), await toClassicScript(file.text, renames));
  }
  const loader = await build({
    ...nodeBundleOptions,
    absWorkingDir: root,
    entryPoints: [{ in: 'src/cli/bundle-loader.ts', out: 'main' }],
    outdir,
    // CommonJS, which bin/inlet.cjs requires: a command then never starts Node's ES module loader. Its
    // import.meta.url is the file's URL, as it was as an ES module; it needs Node's built-in modules only.
    format: 'cjs',
    banner: { js: 'var __inletLoaderUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__inletLoaderUrl' },
    outExtension: { '.js': '.cjs' },
    target: 'node20',
    minify: false,
    metafile: true,
  });
  // The metafile names the files as written.
  const outputs = Object.fromEntries(
    Object.entries(result.metafile.outputs).map(([path, output]) => [path.replace(/\.mjs$/, '.cjs'), output]),
  );
  return {
    inputs: { ...result.metafile.inputs, ...loader.metafile.inputs },
    outputs: { ...outputs, ...loader.metafile.outputs },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values, positionals } = parseArgs({
    options: { metafile: { type: 'string' } },
    allowPositionals: true,
  });
  const [outdir = join(root, 'dist/bundle')] = positionals;
  const metafile = await buildCliBundle(resolve(outdir));
  if (values.metafile !== undefined) await writeFile(values.metafile, JSON.stringify(metafile));
}
