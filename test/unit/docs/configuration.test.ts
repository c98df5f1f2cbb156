/**
 * docs/configuration.md names every key of inlet.config.yaml, and only those: the key paths are read from
 * the zod schema itself, so a key added to (or removed from) src/config/schema.ts or pipeline-schema.ts fails here until the
 * reference says so.
 */
import { describe, expect, it } from 'vitest';
import type * as z from 'zod/mini';
import { configSchema } from '../../../src/config/schema.js';
import { codeSpans, firstCells, readDoc } from './markdown.js';

interface Def {
  readonly type: string;
  readonly shape?: Record<string, z.ZodMiniType>;
  readonly innerType?: z.ZodMiniType;
  readonly in?: z.ZodMiniType;
  readonly out?: z.ZodMiniType;
  readonly element?: z.ZodMiniType;
  readonly options?: readonly z.ZodMiniType[];
}

const defOf = (schema: z.ZodMiniType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Every key path under `schema`: `pipelines[].csv.delimiter`, `snapshots.retention.daily`… */
function keyPaths(schema: z.ZodMiniType, prefix = ''): string[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape ?? {}).flatMap(([key, value]) => {
        const here = prefix === '' ? key : `${prefix}.${key}`;
        return [here, ...keyPaths(value, here)];
      });
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return keyPaths(def.innerType as z.ZodMiniType, prefix);
    // transform(), preprocess() and pipe(): the keys are on whichever side is an object.
    case 'pipe':
      return [...keyPaths(def.in as z.ZodMiniType, prefix), ...keyPaths(def.out as z.ZodMiniType, prefix)];
    case 'array':
      return keyPaths(def.element as z.ZodMiniType, `${prefix}[]`);
    case 'union':
      return (def.options ?? []).flatMap((option) => keyPaths(option, prefix));
    default:
      return [];
  }
}

const KEY_PATH = /^(pipelines|snapshots)(\[\]|\.[A-Za-z]+)*$/;

/** The key paths the reference documents: a backticked path in the first cell of a table row. */
function documentedPaths(markdown: string): string[] {
  return firstCells(markdown).flatMap((cell) => codeSpans(cell).filter((span) => KEY_PATH.test(span)));
}

describe('docs/configuration.md', () => {
  const schemaPaths = [...new Set(keyPaths(configSchema))].sort();
  const doc = readDoc('docs/configuration.md');

  it('the walk finds the schema keys (a sanity check of the walker itself)', () => {
    expect(schemaPaths).toContain('pipelines[].csv.delimiter');
    expect(schemaPaths).toContain('pipelines[].limits.maxCompressionRatio');
    expect(schemaPaths).toContain('pipelines[].replace.minRows');
    expect(schemaPaths).toContain('pipelines[].columns[].type');
    expect(schemaPaths).toContain('snapshots.retention.daily');
    expect(schemaPaths.length).toBeGreaterThan(40);
  });

  it('documents every key of the schema in a table row', () => {
    const documented = new Set(documentedPaths(doc));
    expect(schemaPaths.filter((key) => !documented.has(key))).toEqual([]);
  });

  it('documents no key the schema lacks, and each key once', () => {
    const documented = documentedPaths(doc);
    const known = new Set(schemaPaths);
    expect(documented.filter((key) => !known.has(key))).toEqual([]);
    expect(documented.filter((key, index) => documented.indexOf(key) !== index)).toEqual([]);
  });
});

describe('keyPaths', () => {
  it('fails a reference that lost a row (the check bites)', () => {
    const doc = readDoc('docs/configuration.md');
    const withoutRow = doc
      .split('\n')
      .filter((line) => !line.startsWith('| `pipelines[].replace.minRows`'))
      .join('\n');
    const documented = new Set(documentedPaths(withoutRow));
    expect(documented.has('pipelines[].replace.minRows')).toBe(false);
    expect(documented.has('pipelines[].replace.minRatio')).toBe(true);
  });
});
