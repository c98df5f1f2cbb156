/** What a load checks of its table: the contract's columns and types, and NOT NULL it cannot satisfy. */
import { describe, expect, it } from 'vitest';
import { type LiveColumn, loadMismatches } from '../../../../src/engine/reconcile/live-table.js';
import { catalogSpelling } from '../../../../src/engine/table-shape.js';
import { parseColumnType } from '../../../../src/model/column-type.js';
import type { ColumnContract, Pipeline } from '../../../../src/model/contract.js';

function column(name: string, spelled: string, nullable = true): ColumnContract {
  const type = parseColumnType(spelled);
  if (typeof type === 'string') throw new Error(type);
  return { name, type, source: name, nullable };
}

function live(name: string, spelled: string, notNull = false, hasDefault = false): LiveColumn {
  const type = parseColumnType(spelled);
  return {
    name,
    spelled,
    type: typeof type === 'string' ? undefined : type,
    notNull,
    inPrimaryKey: false,
    hasDefault,
  };
}

const pipeline = {
  name: 'orders',
  key: ['id'],
  columns: [column('id', 'bigint', false), column('qty', 'integer'), column('label', 'varchar(10)')],
} as unknown as Pipeline;

describe('loadMismatches', () => {
  it('finds nothing when the table is as the contract, PostgreSQL spelling its types its own way', () => {
    expect(
      loadMismatches(pipeline, [
        live('id', 'bigint', true),
        live('qty', 'integer'),
        live('label', 'character varying(10)'),
        live('extra', 'text'),
      ]),
    ).toEqual([]);
  });

  it('names missing columns, other types, NOT NULL the contract does not have, and extra NOT NULL columns', () => {
    expect(
      loadMismatches(pipeline, [
        live('id', 'bigint', true),
        live('qty', 'smallint'),
        live('label', 'character varying(10)', true),
        live('must', 'text', true),
        live('defaulted', 'text', true, true),
      ]),
    ).toEqual([
      { column: 'qty', problem: 'is smallint in the table but integer in the contract' },
      { column: 'label', problem: 'is NOT NULL in the table but nullable in the contract' },
      { column: 'must', problem: 'is NOT NULL without a default in the table, and not in the contract' },
    ]);
    expect(loadMismatches(pipeline, [live('id', 'bigint', true), live('qty', 'integer')])).toEqual([
      { column: 'label', problem: 'is missing from the table' },
    ]);
  });
});

describe('catalogSpelling', () => {
  it.each([
    ['varchar(10)', 'character varying(10)'],
    ['varchar', 'character varying'],
    ['timestamp', 'timestamp without time zone'],
    ['timestamptz', 'timestamp with time zone'],
    ['numeric(12,2)', 'numeric(12,2)'],
    ['double precision', 'double precision'],
    ['int4', 'integer'],
  ])('%s is spelled %s by format_type()', (contract, catalog) => {
    const type = parseColumnType(contract);
    if (typeof type === 'string') throw new Error(type);
    expect(catalogSpelling(type)).toBe(catalog);
  });
});
