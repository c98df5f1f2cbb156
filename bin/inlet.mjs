#!/usr/bin/env node
// The `inlet` command: the compiled CLI when built (npm install runs the build), else the
// TypeScript sources through tsx, so a fresh checkout works before any build.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const { main } = existsSync(compiled)
  ? await import(compiled.href)
  : await (await import('tsx/esm/api')).tsImport('../src/cli/main.ts', import.meta.url);

// `inlet ingestions | head` closes stdout early; that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await main(process.argv);
