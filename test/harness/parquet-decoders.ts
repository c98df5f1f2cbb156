import { expect } from 'vitest';
import type { engineHarness } from './engine.js';
import type { ColumnSpec } from './pipelines.js';
import { memorySource } from './sources.js';

type Harness = ReturnType<typeof engineHarness>;
type Loads = Awaited<ReturnType<typeof loadByBothDecoders>>;

/**
 * One Parquet file loaded twice into fresh tables: reading its `tags` LIST column too, which makes hyparquet
 * decode every row group, and reading the flat columns alone, which arrow-rs decodes where it can (asked for
 * whatever the file's size: a test file is smaller than the size from which `auto` chooses it). Any share of
 * rows may be rejected, so that the two loads' rejects can be compared.
 */
export async function loadByBothDecoders(h: Harness, columns: ColumnSpec[], name: string, bytes: Buffer) {
  const withList = await h.freshPipeline({
    columns: [...columns, { name: 'tags', type: 'jsonb' }],
    rejects: { maxRatio: 1 },
  });
  const flatOnly = await h.freshPipeline({ columns, onDrift: 'ignoreExtra', rejects: { maxRatio: 1 } });
  const byHyparquet = await h.run(memorySource(name, bytes, { ranged: true }), withList);
  const byArrow = await h.run(memorySource(name, bytes, { ranged: true }), flatOnly, {
    parquetDecoder: 'arrow-rs',
  });
  return { withList, flatOnly, byHyparquet, byArrow };
}

/** The two loads agree: both loaded, the same counts, the same rejects, and equal tables row for row. */
export async function expectEqualLoads(
  { withList, flatOnly, byHyparquet, byArrow }: Loads,
  tableText: (table: string) => Promise<Record<string, unknown>[]>,
): Promise<void> {
  expect(byArrow).toMatchObject({
    status: 'loaded',
    rowsLoaded: byHyparquet.rowsLoaded,
    rowsRejected: byHyparquet.rowsRejected,
  });
  const reject = (r: (typeof byArrow.rejects)[number]) => [r.record, r.column, r.value, r.reason];
  expect(byArrow.rejects.map(reject)).toEqual(byHyparquet.rejects.map(reject));
  const arrowRows = await tableText(`public.${flatOnly.table.name}`);
  const hyparquetRows = await tableText(`public.${withList.table.name}`);
  expect(arrowRows.length).toBe(hyparquetRows.length);
  for (let i = 0; i < arrowRows.length; i++) expect(arrowRows[i], `row ${i}`).toEqual(hyparquetRows[i]);
}
