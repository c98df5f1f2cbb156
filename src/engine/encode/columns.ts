import { emptyIsNull, isNumberType } from '../../model/column-type.js';
import type { ColumnContract, Pipeline } from '../../model/contract.js';
import { makeBinaryCoercer } from '../coerce/binary.js';
import { makeCoercer } from '../coerce/index.js';
import type { Coercer } from '../copy-text.js';

/** Everything the row encoders need per column, precomputed once per file. */
export interface ColumnPlan {
  /** COPY format: binary saves PostgreSQL most of its parsing, text is the fallback for every type. */
  readonly format: 'text' | 'binary';
  readonly names: readonly string[];
  readonly sources: readonly string[];
  readonly coercers: readonly Coercer[];
  /**
   * For numbers a file holds as numbers (JSON numbers, XLSX number cells, Parquet numbers): the coercer
   * without the column's number `format`, which is for numbers written as text. The same as `coercers`
   * for every other column.
   */
  readonly plainCoercers: readonly Coercer[];
  /** Empty input means NULL (non-text types) rather than an empty string. */
  readonly emptyNull: readonly boolean[];
  readonly nullable: readonly boolean[];
  /** UTF-8 bytes of the column's default, used for empty or missing input. */
  readonly defaults: readonly (Buffer | undefined)[];
  readonly jsonb: readonly boolean[];
  readonly columns: readonly ColumnContract[];
}

/** Binary COPY when every column can be written in it (and text was not asked for), else text. */
export function planColumns(pipeline: Pipeline, copyFormat: 'auto' | 'text' = 'auto'): ColumnPlan {
  const columns = pipeline.columns;
  const binary =
    copyFormat === 'auto' ? columns.map((c) => makeBinaryCoercer(c, { timezone: pipeline.timezone })) : [];
  const useBinary = copyFormat === 'auto' && binary.every((coercer) => coercer !== undefined);
  const coercers = useBinary ? (binary as Coercer[]) : columns.map((c) => makeCoercer(c));
  const plainCoercers = columns.map((column, c) => {
    if (column.format === undefined || !isNumberType(column.type)) return coercers[c] as Coercer;
    const { format: _numberFormat, ...plain } = column;
    return useBinary
      ? (makeBinaryCoercer(plain, { timezone: pipeline.timezone }) as Coercer)
      : makeCoercer(plain);
  });
  return {
    format: useBinary ? 'binary' : 'text',
    names: columns.map((c) => c.name),
    sources: columns.map((c) => c.source),
    coercers,
    plainCoercers,
    emptyNull: columns.map((c) => emptyIsNull(c.type)),
    nullable: columns.map((c) => c.nullable),
    defaults: columns.map((c) => (c.default === undefined ? undefined : Buffer.from(c.default, 'utf8'))),
    jsonb: columns.map((c) => c.type.kind === 'jsonb'),
    columns,
  };
}

export const REQUIRED_REASON = 'is required (NOT NULL) but empty';
