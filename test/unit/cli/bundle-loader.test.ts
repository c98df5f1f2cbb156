/**
 * The bundled command's loader (src/cli/bundle-loader.ts) keeps V8's compiled code between processes. These
 * hold what it may never change: what a file of the bundle does, whether its code came from the cache or
 * not; an entry that is missing, stale, damaged or unwritable costs a compile and nothing else.
 */

import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundleLoader } from '../../../src/cli/bundle-loader.js';

/** A file as scripts/build-cli.mjs writes one: a function expression around a CommonJS body. */
const classic = (body: string) =>
  `(function (__inlet_module, require, __inlet_import, __inlet_url) {"use strict";${body}\n})\n`;

const LIB = classic(`
let count = 0;
function bump() { return ++count; }
__inlet_module.exports = {
  get bump() { return bump; },
  get count() { return count; },
};`);

const MAIN = classic(`
var lib = require("./lib-A1.cjs");
var path = require("node:path");
__inlet_module.exports = {
  get answer() { return answer; },
  get later() { return later; },
  get url() { return url; },
};
const url = __inlet_url;
function answer() { lib.bump(); return path.basename("/x/" + lib.count); }
function later() { return __inlet_import("./late-B2.cjs").then((m) => m.value); }`);

const LATE = classic('__inlet_module.exports = { get value() { return 42; } };');

let dir: string;
let cacheDir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet-bundle-loader-'));
  cacheDir = join(dir, 'code-cache', 'v8');
  await writeFile(join(dir, 'lib-A1.cjs'), LIB);
  await writeFile(join(dir, 'main-C3.cjs'), MAIN);
  await writeFile(join(dir, 'late-B2.cjs'), LATE);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Loads main-C3.cjs with a loader of its own (a new process, as far as the cache goes) and uses it. */
async function run() {
  const loader = bundleLoader(dir, cacheDir);
  const main = loader.load('main-C3.cjs') as {
    answer(): string;
    later(): Promise<number>;
    url: string;
  };
  const result = { answers: [main.answer(), main.answer()], later: await main.later(), url: main.url };
  return { loader, result };
}

const EXPECTED = { answers: ['1', '2'], later: 42 };

describe('the bundle loader', () => {
  it('runs each file once, its imports live, import() and require() of the bundle and of Node alike', async () => {
    const { loader, result } = await run();
    expect(result).toMatchObject(EXPECTED);
    expect(result.url).toBe(new URL(`file://${join(dir, 'main-C3.cjs')}`).href);
    expect([...loader.loaded.keys()].sort()).toEqual(['late-B2.cjs', 'lib-A1.cjs', 'main-C3.cjs']);
    // A second load of the same file is the same module.
    expect(loader.load('lib-A1.cjs')).toBe(loader.load('lib-A1.cjs'));
    // Listed where tools look for a process's CommonJS files.
    expect(Object.keys(createRequire(import.meta.url).cache)).toContain(join(dir, 'lib-A1.cjs'));
  });

  it('compiles from the cache the files an earlier process saved, with the same results', async () => {
    const first = await run();
    expect([...first.loader.loaded.values()].every((file) => !file.fromCache)).toBe(true);
    first.loader.saveCache();
    expect(await readdir(cacheDir)).toHaveLength(3);

    const second = await run();
    expect(second.result).toMatchObject(EXPECTED);
    expect([...second.loader.loaded.values()].every((file) => file.fromCache)).toBe(true);
    // Nothing new to save: the entries stay as they were.
    const before = await readFile(join(cacheDir, (await readdir(cacheDir))[0] as string));
    second.loader.saveCache();
    expect(await readFile(join(cacheDir, (await readdir(cacheDir))[0] as string))).toEqual(before);
  });

  it('does not take the entry of a file that changed since, even at the same length', async () => {
    (await run()).loader.saveCache();
    // Same length, other behaviour: V8 alone would take the old code.
    await writeFile(join(dir, 'late-B2.cjs'), LATE.replace('42', '43'));
    const later = new Date(Date.now() + 5_000);
    await utimes(join(dir, 'late-B2.cjs'), later, later);

    const { loader, result } = await run();
    expect(result.later).toBe(43);
    expect(loader.loaded.get('late-B2.cjs')).toEqual({ fromCache: false });
    expect(loader.loaded.get('lib-A1.cjs')).toEqual({ fromCache: true });
    loader.saveCache();
    expect((await run()).loader.loaded.get('late-B2.cjs')).toEqual({ fromCache: true });
  });

  it('compiles again, and replaces, an entry that is damaged or made by something else', async () => {
    (await run()).loader.saveCache();
    const entries = await readdir(cacheDir);
    const damaged = join(cacheDir, entries.find((name) => name.startsWith('lib-A1')) as string);
    const bytes = await readFile(damaged);
    for (let i = Math.floor(bytes.length / 2); i < bytes.length; i++) bytes[i] = (bytes[i] as number) ^ 0x5a;
    await writeFile(damaged, bytes);
    const truncated = join(cacheDir, entries.find((name) => name.startsWith('main-C3')) as string);
    await writeFile(truncated, bytes.subarray(0, 10));

    const { loader, result } = await run();
    expect(result).toMatchObject(EXPECTED);
    expect(loader.loaded.get('lib-A1.cjs')).toEqual({ fromCache: false });
    expect(loader.loaded.get('main-C3.cjs')).toEqual({ fromCache: false });
    expect(loader.loaded.get('late-B2.cjs')).toEqual({ fromCache: true });
    loader.saveCache();
    expect([...(await run()).loader.loaded.values()].every((file) => file.fromCache)).toBe(true);
  });

  it('does not keep a file whose code threw, half-run: the next load runs it again', async () => {
    await writeFile(join(dir, 'broken-D4.cjs'), classic('throw new Error("cannot start");'));
    const loader = bundleLoader(dir, cacheDir);
    expect(() => loader.load('broken-D4.cjs')).toThrow('cannot start');
    expect(() => loader.load('broken-D4.cjs')).toThrow('cannot start');
    expect(Object.keys(createRequire(import.meta.url).cache)).not.toContain(join(dir, 'broken-D4.cjs'));
  });

  it('runs without a cache where its folder cannot be made, and without one at all', async () => {
    await mkdir(join(dir, 'code-cache'));
    await writeFile(cacheDir, 'a file where the folder would be');
    const { loader, result } = await run();
    expect(result).toMatchObject(EXPECTED);
    expect(() => loader.saveCache()).not.toThrow();

    const uncached = bundleLoader(dir, undefined);
    expect((uncached.load('main-C3.cjs') as { answer(): string }).answer()).toBe('1');
    uncached.saveCache();
  });
});
