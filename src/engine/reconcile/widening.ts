/**
 * Which type changes keep every value a column can hold, so `inlet plan` may propose them without asking:
 * smallint → integer → bigint, varchar(n) → varchar(m ≥ n) → text, numeric(p,s) → numeric with as many
 * integer digits and decimals or more, real → double precision, timestamp → timestamptz (read in the
 * pipeline's zone). Anything else can lose values and is destructive.
 */
import type { ColumnType } from '../../model/contract.js';

const INTEGER_RANK: Partial<Record<ColumnType['kind'], number>> = { smallint: 1, integer: 2, bigint: 3 };
/** The decimal digits each integer type needs, for integer → numeric(p,s). */
const INTEGER_DIGITS: Partial<Record<ColumnType['kind'], number>> = { smallint: 5, integer: 10, bigint: 19 };

/** True when every value of `from` is a value of `to`, unchanged. */
export function keepsEveryValue(from: ColumnType, to: ColumnType): boolean {
  const fromRank = INTEGER_RANK[from.kind];
  const toRank = INTEGER_RANK[to.kind];
  if (fromRank !== undefined && toRank !== undefined) return toRank > fromRank;
  if (fromRank !== undefined && to.kind === 'numeric') {
    return to.precision === undefined || to.precision - (to.scale ?? 0) >= (INTEGER_DIGITS[from.kind] ?? 0);
  }
  if ((from.kind === 'varchar' || from.kind === 'text') && (to.kind === 'varchar' || to.kind === 'text')) {
    if (to.kind === 'text' || to.length === undefined) return true;
    return from.kind === 'varchar' && from.length !== undefined && to.length >= from.length;
  }
  if (from.kind === 'numeric' && to.kind === 'numeric') {
    if (to.precision === undefined) return true;
    if (from.precision === undefined) return false;
    const fromScale = from.scale ?? 0;
    const toScale = to.scale ?? 0;
    return toScale >= fromScale && to.precision - toScale >= from.precision - fromScale;
  }
  if (from.kind === 'real' && to.kind === 'double precision') return true;
  return from.kind === 'timestamp' && to.kind === 'timestamptz';
}
