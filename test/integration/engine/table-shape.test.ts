/**
 * Every load checks that its table takes what the contract sends by binary COPY (table-shape.ts): a column
 * of another type fails the file with table_mismatch before a row is copied, while a wider length or
 * precision, or text for varchar, loads as before.
 */
import { describe, expect, it } from 'vitest';
import { engineHarness } from '../../harness/engine.js';
import { memorySource } from '../../harness/sources.js';

const h = engineHarness('ts');

async function tableOf(sql: string, columns: { name: string; type: string }[]) {
  const pipeline = await h.freshPipeline({ createTable: false, columns });
  await h.state.pool.query(`DROP TABLE public.${pipeline.table.name}`);
  await h.state.pool.query(`CREATE TABLE public.${pipeline.table.name} (${sql})`);
  return pipeline;
}

describe('the table shape check', () => {
  it('loads into wider lengths and precisions, and text and varchar into each other', async () => {
    const pipeline = await tableOf('note varchar(200), label text, amount numeric(14,3), at timestamp(3)', [
      { name: 'note', type: 'text' },
      { name: 'label', type: 'varchar(20)' },
      { name: 'amount', type: 'numeric(12,2)' },
      { name: 'at', type: 'timestamp' },
    ]);
    const csv = 'note,label,amount,at\nhello,short,12.5,2026-12-07 10:00:00.123456\n';
    expect(await h.run(memorySource('w.csv', csv), pipeline)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 1,
    });
    expect(await h.rows(pipeline)).toEqual([
      { note: 'hello', label: 'short', amount: '12.500', at: new Date('2026-12-07T10:00:00.123Z') },
    ]);
  });

  it('refuses a column of another type before copying, naming it and inlet plan', async () => {
    const pipeline = await tableOf('n integer, at timestamptz', [
      { name: 'n', type: 'real' },
      { name: 'at', type: 'timestamp' },
    ]);
    const result = await h.run(memorySource('x.csv', 'n,at\n1.5,2026-12-07 10:00:00\n'), pipeline);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'table_mismatch' } });
    expect(result.error?.message).toContain('column "n" is integer in the table but real in the contract');
    expect(result.error?.message).toContain(
      'column "at" is timestamptz in the table but timestamp in the contract',
    );
    expect(result.error?.message).toContain('inlet plan');
    expect(await h.rows(pipeline)).toEqual([]);
  });
});
