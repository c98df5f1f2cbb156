/**
 * The environment variables the code reads, found by reading the sources: `process.env.NAME`,
 * `process.env['NAME']`, the same through an `env` parameter (`env.NAME`, `env['NAME']`), destructuring
 * (`const { NAME: name } = process.env`), the readers of src/settings/env.ts, which take the environment
 * and a variable's name (`integer(env, 'NAME', …)`, `text(env, 'NAME')`), and bench's
 * `countFromEnv('NAME', …)`. A file that indexes the environment by a computed name must be one of those
 * helpers' files, so a new idiom fails the test instead of hiding its variables.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './markdown.js';

/**
 * Folders whose code runs as Inlet, its deployment, its benchmark or the tests' shared harness. Test files
 * themselves are left out: they also read synthesized templates' `env` blocks, which are not the process's.
 */
export const SCANNED = ['src', 'bin', 'infra', 'scripts', 'bench', 'test/harness'] as const;

/** Files that read a variable whose name they are given; the names are found at their call sites. */
export const NAME_HELPERS = new Set(['src/settings/env.ts', 'bench/server.ts']);

const NAME = '([A-Z][A-Z0-9_]*)';
const DIRECT = [
  new RegExp(`(?<!\\bdelete\\s+(?:process\\.)?)\\b(?:process\\.env|env)\\.${NAME}\\b(?!\\s*=[^=])`, 'g'),
  new RegExp(
    `(?<!\\bdelete\\s+(?:process\\.)?)\\b(?:process\\.env|env)\\[\\s*['"\`]${NAME}['"\`]\\s*\\](?!\\s*=[^=])`,
    'g',
  ),
  new RegExp(`\\b[A-Za-z_$][\\w$]*\\(\\s*env\\s*,\\s*['"]${NAME}['"]`, 'g'),
  new RegExp(`\\bcountFromEnv\\(\\s*['"]${NAME}['"]`, 'g'),
];
const DESTRUCTURED = /\{([^{}]*)\}\s*=\s*(?:process\.)?env\b/g;
const COMPUTED = /\b(?:process\.env|env)\[(?!\s*['"`])/;

export interface EnvRead {
  readonly name: string;
  readonly file: string;
}

function sourceFiles(dir: string): string[] {
  const entries = readdirSync(path.join(ROOT, dir), { withFileTypes: true });
  return entries.flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(relative);
    return /\.(ts|mts|mjs|js)$/.test(entry.name) ? [relative] : [];
  });
}

export function scanEnvReads(): { reads: EnvRead[]; computedOutsideHelpers: string[] } {
  const reads: EnvRead[] = [];
  const computedOutsideHelpers: string[] = [];
  for (const file of SCANNED.flatMap((dir) => sourceFiles(dir))) {
    // The dashboard runs in the browser: it has no environment.
    if (file.startsWith('src/dashboard/')) continue;
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    for (const pattern of DIRECT) {
      for (const match of text.matchAll(pattern)) reads.push({ name: match[1] as string, file });
    }
    for (const match of text.matchAll(DESTRUCTURED)) {
      for (const part of (match[1] as string).split(',')) {
        const key = part.split(':')[0]?.trim() ?? '';
        if (/^[A-Z][A-Z0-9_]*$/.test(key)) reads.push({ name: key, file });
      }
    }
    if (COMPUTED.test(text) && !NAME_HELPERS.has(file)) computedOutsideHelpers.push(file);
  }
  return { reads, computedOutsideHelpers };
}
