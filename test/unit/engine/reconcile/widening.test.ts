/** Which type changes `inlet plan` proposes as widenings (every value kept), and which are destructive. */
import { describe, expect, it } from 'vitest';
import { keepsEveryValue } from '../../../../src/engine/reconcile/widening.js';
import { parseColumnType } from '../../../../src/model/column-type.js';
import type { ColumnType } from '../../../../src/model/contract.js';

function type(spelled: string): ColumnType {
  const parsed = parseColumnType(spelled);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

describe('keepsEveryValue', () => {
  it.each([
    ['smallint', 'integer'],
    ['smallint', 'bigint'],
    ['integer', 'bigint'],
    ['varchar(5)', 'varchar(5)'],
    ['varchar(5)', 'varchar(40)'],
    ['varchar(5)', 'varchar'],
    ['varchar(5)', 'text'],
    ['varchar', 'text'],
    ['text', 'varchar'],
    ['numeric(5,2)', 'numeric(9,2)'],
    ['numeric(5,2)', 'numeric(6,3)'],
    ['numeric(5,2)', 'numeric'],
    ['integer', 'numeric(10,0)'],
    ['integer', 'numeric(12,2)'],
    ['bigint', 'numeric'],
    ['real', 'double precision'],
    ['timestamp', 'timestamptz'],
  ])('%s → %s keeps every value', (from, to) => {
    expect(keepsEveryValue(type(from), type(to))).toBe(true);
  });

  it.each([
    ['integer', 'smallint'],
    ['bigint', 'integer'],
    ['varchar(40)', 'varchar(5)'],
    ['text', 'varchar(5)'],
    ['numeric(9,2)', 'numeric(5,2)'],
    // As many digits, but fewer before the point.
    ['numeric(5,2)', 'numeric(5,3)'],
    // Fewer decimals: values would be rounded.
    ['numeric(6,3)', 'numeric(9,2)'],
    ['numeric', 'numeric(30,10)'],
    ['integer', 'numeric(9,0)'],
    ['bigint', 'double precision'],
    ['double precision', 'real'],
    ['timestamptz', 'timestamp'],
    ['text', 'integer'],
    ['date', 'timestamp'],
    ['integer', 'text'],
  ])('%s → %s can lose values', (from, to) => {
    expect(keepsEveryValue(type(from), type(to))).toBe(false);
  });
});
