/**
 * docs/environment.md names every environment variable the code reads, and only those (see env-reads.ts
 * for what counts as a read).
 */
import { describe, expect, it } from 'vitest';
import { scanEnvReads } from './env-reads.js';
import { codeSpans, firstCells, readDoc } from './markdown.js';

const VARIABLE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

function documented(markdown: string): string[] {
  return firstCells(markdown).flatMap((cell) => codeSpans(cell).filter((span) => VARIABLE.test(span)));
}

describe('docs/environment.md', () => {
  const { reads, computedOutsideHelpers } = scanEnvReads();
  const read = new Set(reads.map((entry) => entry.name));
  const doc = readDoc('docs/environment.md');

  it('finds the reads (a sanity check of the scanner)', () => {
    for (const name of [
      'DATABASE_URL',
      'INLET_CONFIG',
      'INLET_WORKERS',
      'INLET_S3_PORT',
      'INLET_SNAPSHOT_TARGET',
    ])
      expect(read).toContain(name);
  });

  it('reads the environment by a computed name only in the helpers the scanner knows', () => {
    expect(computedOutsideHelpers).toEqual([]);
  });

  it('documents every variable the code reads', () => {
    const names = new Set(documented(doc));
    const missing = [...read].filter((name) => !names.has(name)).sort();
    const where = missing.map((name) => `${name} (${reads.find((entry) => entry.name === name)?.file})`);
    expect(where).toEqual([]);
  });

  it('documents no variable nothing reads, and each once', () => {
    const names = documented(doc);
    expect(names.filter((name) => !read.has(name))).toEqual([]);
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
  });
});
