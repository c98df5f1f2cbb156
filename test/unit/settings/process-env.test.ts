/**
 * The environment is read in one settings module per process kind, and nowhere else in src/: everything
 * below the doors is handed its settings (docs/environment.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanEnvReads } from '../docs/env-reads.js';
import { ROOT } from '../docs/markdown.js';
import { processEnvUses } from './process-env.js';

/** The only files of src/ that touch process.env: one per process kind. */
const SETTINGS_MODULES = [
  'src/cli/settings.ts',
  'src/local/settings.ts',
  'src/server/settings.ts',
  'src/serverless/settings.ts',
];

/** The readers those modules share (a variable more than one process kind reads), given the environment. */
const SHARED_READERS = 'src/settings/';

/** Its uses of process.env; a file without the letters `env` has none, and is not parsed. */
function usesIn(file: string) {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return text.includes('env') ? processEnvUses(file, text) : [];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(relative);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name) ? [relative] : [];
  });
}

describe('processEnvUses (the scanner)', () => {
  const found = (source: string, fileName = 'x.ts') =>
    processEnvUses(fileName, source).map((use) => use.code);

  it('finds every spelling of a read', () => {
    expect(found('const a = process.env.A;')).toEqual(['process.env']);
    expect(found("const a = process['env'].A;")).toEqual(["process['env']"]);
    expect(found('const a = process?.env?.A;')).toEqual(['process?.env']);
    expect(found('const a = globalThis.process.env.A;')).toEqual(['globalThis.process.env']);
    expect(found('const a = (process as NodeJS.Process).env.A;')).toEqual([
      '(process as NodeJS.Process).env',
    ]);
    expect(found('const { env } = process;')).toEqual(['env']);
    expect(found('const { env: e, argv } = globalThis.process;')).toEqual(['env: e']);
    expect(found("import { env } from 'node:process';")).toEqual(['env']);
    expect(found("import { env as e } from 'process';")).toEqual(['env as e']);
    expect(found("import proc from 'node:process';\nproc.env.A;")).toEqual(['proc.env']);
    expect(found("import * as p from 'process';\np.env.A;")).toEqual(['p.env']);
    expect(found('const p = process;\nconst a = p.env.A;')).toEqual(['p.env']);
    expect(found('export function f(env = process.env) {}', 'x.mjs')).toEqual(['process.env']);
  });

  it('ignores what is not one', () => {
    expect(found('// process.env.A\nconst s = "process.env.A";')).toEqual([]);
    expect(found('const a = options.env.A; const b = process.argv; const c = child.process.env;')).toEqual(
      [],
    );
    expect(found("import { argv } from 'node:process'; const env = {};")).toEqual([]);
  });

  it('says where', () => {
    expect(processEnvUses('x.ts', '\n\nconst a = process.env.A;')).toEqual([
      { line: 3, code: 'process.env' },
    ]);
  });
});

describe('where src/ reads the environment', () => {
  const files = sourceFiles('src');

  it('touches process.env in the settings modules only, and in each of them', () => {
    const readers = files.filter((file) => usesIn(file).length > 0);
    expect(readers.sort()).toEqual(SETTINGS_MODULES);
  });

  it('names a variable only in the settings modules and the readers they share', () => {
    const elsewhere = scanEnvReads()
      .reads.filter((read) => read.file.startsWith('src/'))
      .filter((read) => !SETTINGS_MODULES.includes(read.file) && !read.file.startsWith(SHARED_READERS))
      .map((read) => `${read.name} (${read.file})`);
    expect(elsewhere).toEqual([]);
  });

  it('gives the shared readers no process.env of their own', () => {
    const shared = files.filter((file) => file.startsWith(SHARED_READERS));
    expect(shared.length).toBeGreaterThan(0);
    for (const file of shared) expect(usesIn(file)).toEqual([]);
  });
});
