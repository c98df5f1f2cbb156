/**
 * The bundled `inlet` command's loader: dist/bundle/main.cjs, which bin/inlet.cjs runs. Node 20 keeps no
 * compiled code between processes, so every command used to parse and compile its part of the bundle
 * again (about a quarter of a small `inlet ingest`'s CPU). V8 can keep it for a classic script
 * (vm.Script's cachedData), not for an ES module, so scripts/build-cli.mjs writes each file of the bundle
 * as a classic script: one function expression that takes its module object, its `require`, its dynamic
 * `import()` and its own URL. This loader compiles each file the first time it is required, with the code
 * an earlier command left in `code-cache/` beside it when there is one, and at exit saves the code of the
 * files that had none (or a stale one) for the next command, as Node 22's module.enableCompileCache() does.
 *
 * A cache entry is named by its file's size and modification time, and kept per V8 version and CPU
 * architecture; V8 itself refuses code made by another version or other flags, or for a source of
 * another length, but does not check that the code is whole: each entry starts with the CRC-32 of the rest,
 * and one that does not match is not handed to V8 (zlib, which the ingest path loads anyway, rather than
 * crypto, which would cost `inlet --help` about 3 ms to load). A refused or missing entry costs the compile
 * it was meant to save, nothing more; a folder that cannot be written (a read-only install) means running
 * without the cache.
 */

import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';

/** What scripts/build-cli.mjs makes of a file of the bundle. */
type BundleFile = (
  module: BundleModule,
  require: (specifier: string) => unknown,
  importDynamic: (specifier: string) => Promise<unknown>,
  url: string,
) => void;

/** The fields of a CommonJS module that require.cache readers look at, and the file's exports. */
interface BundleModule {
  readonly id: string;
  readonly filename: string;
  loaded: boolean;
  exports: Record<string, unknown>;
  readonly children: never[];
  readonly paths: never[];
}

/** How a file of the bundle names another (build-cli.mjs writes the names so). */
const BUNDLE_FILE = /^\.\/([\w-]+\.cjs)$/;

export interface BundleLoader {
  /** Runs a file of the bundle, once, and returns its exports. */
  load(file: string): Record<string, unknown>;
  /** Writes the compiled code of each file loaded without a usable cache entry; never throws. */
  saveCache(): void;
  /** The files loaded so far, and which of them compiled from the cache. */
  readonly loaded: ReadonlyMap<string, { readonly fromCache: boolean }>;
}

/**
 * Loads the files of the bundle in `dir`, with compiled code from `cacheDir` (none when undefined).
 * Each file it runs is also entered in require.cache, as a CommonJS file would be, so that tools which list
 * a process's modules (test/harness/module-log.mjs) see it.
 */
export function bundleLoader(dir: string, cacheDir: string | undefined): BundleLoader {
  const nodeRequire = createRequire(pathToFileURL(join(dir, 'main.cjs')));
  const modules = new Map<string, BundleModule>();
  const loaded = new Map<string, { fromCache: boolean }>();
  const unsaved: { script: Script; cachePath: string }[] = [];

  const requireFrom = (specifier: string): unknown => {
    const file = BUNDLE_FILE.exec(specifier)?.[1];
    return file === undefined ? nodeRequire(specifier) : load(file);
  };
  // Resolved from this file's folder, the bundle's, as the bundle's own import() was.
  const importFrom = (specifier: string): Promise<unknown> => {
    const file = BUNDLE_FILE.exec(specifier)?.[1];
    return file === undefined ? import(specifier) : Promise.resolve().then(() => load(file));
  };

  function load(file: string): Record<string, unknown> {
    const path = join(dir, file);
    const known = modules.get(path);
    if (known !== undefined) return known.exports;
    const { source, size, mtimeNs } = readSource(path);
    const cachePath = cacheDir === undefined ? undefined : join(cacheDir, `${file}.${size}.${mtimeNs}.v8`);
    const cachedData = cachePath === undefined ? undefined : readCacheEntry(cachePath);
    const script = new Script(source, { filename: path, ...(cachedData ? { cachedData } : {}) });
    const fromCache = cachedData !== undefined && script.cachedDataRejected !== true;
    if (!fromCache && cachePath !== undefined) unsaved.push({ script, cachePath });
    loaded.set(file, { fromCache });
    const module: BundleModule = {
      id: path,
      filename: path,
      loaded: false,
      exports: {},
      children: [],
      paths: [],
    };
    modules.set(path, module);
    nodeRequire.cache[path] = module as unknown as NodeJS.Module;
    try {
      (script.runInThisContext() as BundleFile)(module, requireFrom, importFrom, pathToFileURL(path).href);
    } catch (error) {
      // As require() does: a file that failed is not left half-run for the next caller.
      modules.delete(path);
      delete nodeRequire.cache[path];
      throw error;
    }
    module.loaded = true;
    return module.exports;
  }

  function saveCache(): void {
    if (cacheDir === undefined || unsaved.length === 0) return;
    try {
      mkdirSync(cacheDir, { recursive: true });
      for (const { script, cachePath } of unsaved.splice(0)) {
        // Renamed into place whole: a command starting meanwhile reads the old entry or the new, never half.
        const partial = `${cachePath}.${process.pid}.partial`;
        const code = script.createCachedData();
        writeFileSync(partial, Buffer.concat([checksum(code), code]));
        renameSync(partial, cachePath);
      }
    } catch {
      // Without a writable folder every command compiles, as before there was a cache.
    }
  }

  return { load, saveCache, loaded };
}

function readSource(path: string): { source: string; size: bigint; mtimeNs: bigint } {
  const fd = openSync(path, 'r');
  try {
    const { size, mtimeNs } = fstatSync(fd, { bigint: true });
    return { source: readFileSync(fd, 'utf8'), size, mtimeNs };
  } finally {
    closeSync(fd);
  }
}

const CHECKSUM_BYTES = 4;

function checksum(data: Buffer): Buffer {
  const sum = Buffer.alloc(CHECKSUM_BYTES);
  sum.writeUInt32BE(crc32(data));
  return sum;
}

/** The compiled code an entry holds, when the entry is there and whole. */
function readCacheEntry(path: string): Buffer | undefined {
  let entry: Buffer;
  try {
    entry = readFileSync(path);
  } catch {
    return undefined;
  }
  const code = entry.subarray(CHECKSUM_BYTES);
  return entry.length > CHECKSUM_BYTES && checksum(code).equals(entry.subarray(0, CHECKSUM_BYTES))
    ? code
    : undefined;
}

let shared: BundleLoader | undefined;

/** The CLI's main() (src/cli/main.ts), run from the bundle beside this file. */
export async function main(argv: string[]): Promise<number> {
  if (shared === undefined) {
    const dir = fileURLToPath(new URL('.', import.meta.url));
    const loader = bundleLoader(dir, join(dir, 'code-cache', `${process.versions.v8}-${process.arch}`));
    process.once('exit', () => loader.saveCache());
    shared = loader;
  }
  const cli = shared.load('cli.cjs') as { main(argv: string[]): Promise<number> };
  return cli.main(argv);
}

/** `node dist/bundle/main.cjs …` runs the command, as `node dist/cli/main.js …` does. */
function isEntryModule(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryModule()) {
  // No top-level await: scripts/build-cli.mjs builds this file as CommonJS (bin/inlet.cjs says why).
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
