// Bundles the `inlet` command into dist/bundle/ (ESM, Node 20), which bin/inlet.mjs runs: `npm run build`
// runs this after tsc. A command started from dist/cli/ resolves, reads and compiles some 240 files before
// it reads a byte; from the bundle it reads a dozen. What a command imports on demand (each command's work,
// the server, the AWS SDK, the Parquet and XLSX readers) stays in chunks of its own, loaded when used, so
// `inlet ingest` of a local CSV still compiles none of the server's code
// (test/integration/cli/loaded-modules.test.ts holds this for the bundle too).
// Usage: node scripts/build-cli.mjs [outdir] [--metafile FILE]   (default dist/bundle; paths relative to the
// current directory; --metafile writes esbuild's account of which source went into which file)
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { englishOnlyZod, nodeBundleOptions, pgWithoutWorkerProbe } from './node-bundle.mjs';

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

/** Builds the bundle into `outdir` (emptied first: chunks are named by content hash); returns esbuild's metafile. */
export async function buildCliBundle(outdir) {
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    ...nodeBundleOptions,
    absWorkingDir: root,
    entryPoints: [{ in: 'src/cli/main.ts', out: 'main' }],
    outdir,
    splitting: true,
    // Beside main.mjs, never in a subfolder: distRelativeUrls counts on one depth for every file.
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    // package.json's engines; readable names in the stack traces INLET_DEBUG prints.
    target: 'node20',
    minify: false,
    metafile: true,
    plugins: [englishOnlyZod, pgWithoutWorkerProbe, distRelativeUrls],
  });
  return result.metafile;
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
