import { describe, expect, it } from 'vitest';
import { COPY_FORMATS, engineHarness } from '../../harness/engine.js';
import { flat, parquetFile, textList } from '../../harness/parquet.js';
import { expectEqualLoads, loadByBothDecoders } from '../../harness/parquet-decoders.js';
import { seededRandom } from '../../harness/seeded-random.js';

/**
 * Text from arrow-rs is copied from its buffers into COPY data without becoming a string; these rows
 * hold it to the same tables and the same rejects as hyparquet's bytes, which go the generic way.
 */
const h = engineHarness('pqtext');

const TEXT_COLUMNS = [
  { name: 'id', type: 'bigint', nullable: false },
  { name: 't', type: 'text' },
  { name: 'v', type: 'varchar' },
  { name: 'v5', type: 'varchar(5)' },
  { name: 'j', type: 'jsonb' },
];

const ROWS = 1_200;
const GROUP = 400;
const PIECES = ['Ada', 'ü', '€', '😀', 'tab\there', 'nul\u0000in', '', ' ', '"quoted"', '\\'];

function text(next: () => number, i: number): string | null {
  if (next() < 0.1) return null;
  if (i % 97 === 0) return 'x'.repeat(20_000) + 'é'.repeat(1_000);
  const parts = Math.floor(next() * 4);
  let value = '';
  for (let p = 0; p < parts; p++) value += PIECES[Math.floor(next() * PIECES.length)];
  return value;
}

/**
 * Three row groups of STRING columns; with `invalid`, the last holds bytes that are not UTF-8, which
 * arrow-rs refuses (hyparquet then decodes that group, with replacement characters).
 */
function file(invalid: boolean): Buffer {
  const next = seededRandom(1617);
  const rows = Array.from({ length: ROWS }, (_, i) => {
    const t = text(next, i);
    const bad = invalid && i >= 2 * GROUP && i % 7 === 0;
    return {
      id: BigInt(i),
      t: bad ? Uint8Array.of(0x61, 0xff, 0x62) : t,
      v: text(next, i),
      v5: text(next, i),
      j: (() => {
        const value = text(next, i);
        return value === null ? null : JSON.stringify(value);
      })(),
      tags: i % 3 === 0 ? null : [`t${i}`],
    };
  });
  const column = <K extends keyof (typeof rows)[number]>(key: K) => rows.map((row) => row[key]);
  const string = { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } } as const;
  return parquetFile(
    {
      id: flat('id', { type: 'INT64' }, column('id'), false),
      t: flat('t', string, column('t')),
      v: flat('v', string, column('v')),
      v5: flat('v5', string, column('v5')),
      j: flat('j', string, column('j')),
      tags: textList('tags', column('tags')),
    },
    { rowGroupSize: GROUP },
  );
}

async function tableText(table: string): Promise<Record<string, unknown>[]> {
  const columns = TEXT_COLUMNS.map((c) => `${c.name}::text`);
  const { rows } = await h.state.pool.query(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY id`);
  return rows;
}

describe.each(COPY_FORMATS)('%s', (_label, format) => {
  it.each([
    ['valid UTF-8', false, 3],
    ['a row group of invalid UTF-8', true, 2],
  ])('text from arrow-rs loads as hyparquet’s does (%s)', async (_name, invalid, arrowGroups) => {
    h.state.copyFormat = format;
    const bytes = file(invalid);
    const loads = await loadByBothDecoders(h, TEXT_COLUMNS, 'text.parquet', bytes);
    expect((await h.ledger(loads.byArrow.ingestionId))?.details).toMatchObject({
      parquet: { decodedBy: { arrowRs: arrowGroups, hyparquet: 3 - arrowGroups } },
    });
    const reasons = [...new Set(loads.byArrow.rejects.map((r) => r.reason))].join('\n');
    // The seeded rows do reach both rejects: a NUL and varchar(5)'s length.
    expect(reasons).toMatch(/NUL/);
    expect(reasons).toMatch(/varchar\(5\)/);
    expect(loads.byHyparquet.rowsLoaded).toBeGreaterThan(ROWS / 4);
    await expectEqualLoads(loads, tableText);
  });
});
