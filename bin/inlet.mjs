#!/usr/bin/env node
// The `inlet` command: the bundled CLI when built (npm install runs the build; scripts/build-cli.mjs says
// why a bundle), else the compiled files of an older build, else the TypeScript sources through tsx, so a
// fresh checkout works before any build.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node 22.1+ keeps the compiled code of the ES modules below in a cache (its temp folder), as TypeScript's
// tsc does: a later command then skips most of its compiling. The bundle keeps its own on any Node
// (dist/bundle/code-cache/, src/cli/bundle-loader.ts); this covers the fallbacks.
module.enableCompileCache?.();

const bundled = new URL('../dist/bundle/main.mjs', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);
const { main } = existsSync(bundled)
  ? await import(bundled.href)
  : existsSync(compiled)
    ? await import(compiled.href)
    : await (await import('tsx/esm/api')).tsImport('../src/cli/main.ts', import.meta.url);

// `inlet ingestions | head` closes stdout early; that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await main(process.argv);
