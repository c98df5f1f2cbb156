#!/usr/bin/env node
// The `inlet` command (package.json's bin): the bundled CLI when built (npm install runs the build;
// scripts/build-cli.mjs says why a bundle), else the compiled files of an older build, else the TypeScript
// sources through tsx, so a fresh checkout works before any build.
//
// CommonJS, as is the bundle's loader, dist/bundle/main.cjs: a command that runs the bundle never starts
// Node's ES module loader, a few milliseconds of every command (docs/benchmarks.md, "The command's entry
// as CommonJS"). The fallbacks are ES modules, imported.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

// stdout is the CLI's to make, with its rule for EPIPE (src/cli/output.ts): making it here would cost every
// command, `inlet --help` among them, Node's stream machinery for a pipe.

/** The CLI's main(argv) from the bundle, dist/cli/, or src/ through tsx. */
async function cli() {
  const bundled = join(__dirname, '../dist/bundle/main.cjs');
  if (existsSync(bundled)) return require(bundled);
  // Node 22.1+ keeps the compiled code of the ES modules below in a cache (its temp folder), as TypeScript's
  // tsc does; the bundle keeps its own on any Node (src/cli/bundle-loader.ts).
  require('node:module').enableCompileCache?.();
  const compiled = join(__dirname, '../dist/cli/main.js');
  if (existsSync(compiled)) return import(pathToFileURL(compiled).href);
  const { tsImport } = await import('tsx/esm/api');
  return tsImport('../src/cli/main.ts', pathToFileURL(__filename).href);
}

cli()
  .then(({ main }) => main(process.argv))
  .then((code) => {
    process.exitCode = code;
  });
