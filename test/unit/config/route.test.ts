import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { findPipeline, noPipelineMessage } from '../../../src/config/route.js';
import { UsageError } from '../../../src/errors.js';

const config = parseConfig(
  `pipelines:
  - { name: orders, match: ["orders/**", "*.orders.csv"], table: orders, columns: [{ name: x, type: text }] }
  - { name: dotted, match: ".hidden/*.csv", table: dotted, columns: [{ name: x, type: text }] }
  - { name: catch-all, match: "**/*.csv", table: everything, columns: [{ name: x, type: text }] }
  - { name: manual, table: manual, columns: [{ name: x, type: text }] }
`,
  'inlet.config.yaml',
);

const route = (name: string, explicit?: string) => findPipeline(config, name, explicit)?.name;

describe('findPipeline', () => {
  it('matches globs against the whole name', () => {
    expect(route('orders/2024/03/a.csv')).toBe('orders');
  });

  it('matches globs against the basename', () => {
    expect(route('incoming/today/march.orders.csv')).toBe('orders');
  });

  it('takes the first matching pipeline in config order', () => {
    expect(route('orders/x.csv')).toBe('orders');
    expect(route('other/x.csv')).toBe('catch-all');
  });

  it('matches dotfiles and dot directories', () => {
    expect(route('.hidden/a.csv')).toBe('dotted');
  });

  it('ignores a leading ./ and Windows separators', () => {
    expect(route('./orders/a.csv')).toBe('orders');
    expect(route('orders\\a.csv')).toBe('orders');
  });

  it('matches names holding a newline or other control characters, which S3 keys and file names may (B17)', () => {
    expect(route('orders/a\nb.csv')).toBe('orders');
    expect(route('other/line\nbreak\r\u0001.csv')).toBe('catch-all');
    expect(route('in/x\n.orders.csv')).toBe('orders');
  });

  it('takes a local file by any of its names: relative with .. segments, as typed, absolute (issue 17)', () => {
    const folders = parseConfig(
      `pipelines:
  - { name: first, match: "exports/*.csv", table: first, columns: [{ name: x, type: text }] }
  - { name: orders, match: "**/orders/**", table: orders, columns: [{ name: x, type: text }] }
`,
      'inlet.config.yaml',
    );
    const relativeOnly = '../../data/incoming/orders/x.csv';
    expect(findPipeline(folders, relativeOnly)).toBeUndefined();
    expect(findPipeline(folders, [relativeOnly, '/data/incoming/orders/x.csv'])?.name).toBe('orders');
    // Config order still decides when two names match two pipelines.
    expect(findPipeline(folders, ['orders/exports/a.csv', 'exports/a.csv'])?.name).toBe('first');
    expect(findPipeline(folders, ['../x/notes.txt', '/x/notes.txt'])).toBeUndefined();
  });

  it('returns undefined when nothing matches', () => {
    expect(route('notes.txt')).toBeUndefined();
  });

  it('never routes to a pipeline without globs unless named', () => {
    expect(route('manual')).toBeUndefined();
    expect(route('notes.txt', 'manual')).toBe('manual');
  });

  it('sends everything to an explicitly named pipeline', () => {
    expect(route('orders/a.csv', 'catch-all')).toBe('catch-all');
  });

  it('refuses an unknown pipeline name, listing the known ones', () => {
    let error: unknown;
    try {
      findPipeline(config, 'a.csv', 'order');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('unknown_pipeline');
    expect((error as UsageError).message).toBe(
      'unknown pipeline "order"; known pipelines: orders, dotted, catch-all, manual',
    );
  });
});

describe('noPipelineMessage', () => {
  it('lists each pipeline with its globs and suggests --pipeline', () => {
    const message = noPipelineMessage(config, 'notes.txt');
    expect(message).toContain('no pipeline matches "notes.txt"');
    expect(message).toContain('orders (orders/**, *.orders.csv)');
    expect(message).toContain('manual (no match globs)');
    expect(message).toContain('--pipeline NAME');
  });

  it('says which other names of a local file were tried', () => {
    const message = noPipelineMessage(config, ['../in/notes.txt', '/srv/in/notes.txt', '../in/notes.txt']);
    expect(message).toContain('no pipeline matches "../in/notes.txt" (nor as "/srv/in/notes.txt");');
  });

  it('names a single name once', () => {
    expect(noPipelineMessage(config, ['a.txt', 'a.txt'])).toContain('no pipeline matches "a.txt";');
  });
});
