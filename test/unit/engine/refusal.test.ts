/**
 * What a load says when PostgreSQL refuses it because the table no longer matches the contract (changed
 * after the load's first statement checked it, or NOT NULL where the contract allows empty values): the
 * column and inlet plan, code table_mismatch, never PostgreSQL's own words alone.
 */
import { describe, expect, it } from 'vitest';
import { refusal } from '../../../src/engine/outcome.js';
import { DatabaseError } from '../../../src/errors.js';
import { parseColumnType } from '../../../src/model/column-type.js';
import type { ColumnContract, Pipeline } from '../../../src/model/contract.js';

function column(name: string, nullable: boolean): ColumnContract {
  const type = parseColumnType('text');
  if (typeof type === 'string') throw new Error(type);
  return { name, type, source: name, nullable };
}

const pipeline = {
  name: 'orders',
  mode: 'append',
  key: [],
  table: { schema: 'public', name: 'orders' },
  columns: [column('id', false), column('label', true)],
} as unknown as Pipeline;

function pgError(code: string, message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...fields });
}

describe('refusal', () => {
  it('names the contract column PostgreSQL did not find (42703) and inlet plan', () => {
    const error = refusal(pgError('42703', 'column "label" of relation "orders" does not exist'), pipeline);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).code).toBe('table_mismatch');
    expect((error as DatabaseError).message).toBe(
      'The table public.orders does not match the contract of pipeline "orders": column "label" is missing from the table. Nothing was loaded. Run inlet plan to see the DDL that brings the table to the contract, and inlet apply to run it (or fix the pipeline\'s columns); then send the file again.',
    );
  });

  it('names a NOT NULL column the contract lets be empty, or does not have (23502)', () => {
    const nullable = refusal(pgError('23502', 'null value in column "label"', { column: 'label' }), pipeline);
    expect((nullable as DatabaseError).code).toBe('table_mismatch');
    expect((nullable as DatabaseError).message).toContain(
      'column "label" is NOT NULL in the table but nullable in the contract',
    );
    const extra = refusal(pgError('23502', 'null value in column "since"', { column: 'since' }), pipeline);
    expect((extra as DatabaseError).message).toContain(
      'column "since" is NOT NULL without a default in the table, and not in the contract',
    );
  });

  it('leaves other refusals as they were', () => {
    const error = refusal(pgError('23505', 'duplicate key value violates unique constraint'), pipeline);
    expect((error as DatabaseError).code).toBe('database_refused');
  });
});
