/**
 * `node --import ./test/harness/module-log.mjs …` appends to the file INLET_TEST_MODULE_LOG names every
 * module the process loads: each ES module (and package entry) as Node's loader loads it, and at exit
 * each CommonJS file in require's cache (what CommonJS packages require among themselves, which the
 * loader hook does not see). test/integration/cli/loaded-modules.test.ts reads it.
 * The same file is both the preload (main thread) and the loader hooks (Node runs those on their own thread).
 */
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

let logFile = '';

if (isMainThread) {
  logFile = process.env.INLET_TEST_MODULE_LOG ?? '';
  if (logFile === '') throw new Error('module-log.mjs: set INLET_TEST_MODULE_LOG to the file to write');
  register(import.meta.url, { data: { logFile } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    appendFileSync(
      logFile,
      Object.keys(require.cache)
        .map((file) => `${file}\n`)
        .join(''),
    );
  });
}

export function initialize(data) {
  logFile = data.logFile;
}

export async function load(url, context, nextLoad) {
  appendFileSync(logFile, `${url}\n`);
  return nextLoad(url, context);
}
