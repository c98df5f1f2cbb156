import type { ColumnContract } from '../../model/contract.js';
import type { Coercer } from '../copy-text.js';
import { makeBooleanCoercer } from './boolean.js';
import { makeIsoDateCoercer, makePatternDateCoercer } from './date.js';
import { compileDateTimePattern } from './datetime-pattern.js';
import { EPOCH_FORMATS, type EpochFormat } from './epoch.js';
import { makeFloatCoercer } from './float.js';
import { makeIntegerCoercer } from './integer.js';
import { makeJsonbCoercer } from './jsonb.js';
import { parseNumberFormat, withNumberFormat } from './number-format.js';
import { makeNumericCoercer, makeScaledNumericCoercer } from './numeric.js';
import { makeTextCoercer, makeVarcharCoercer } from './text.js';
import { makeTimestampCoercer, type TimestampSource } from './timestamp.js';
import { makeUuidCoercer } from './uuid.js';

/**
 * Why `column.format` cannot be used for the column's type, or undefined when it can (or is
 * unset). The config loader calls this to name the offending key; makeCoercer enforces it.
 */
export function validateFormat(column: ColumnContract): string | undefined {
  const format = column.format;
  if (format === undefined) return undefined;
  const kind = column.type.kind;
  switch (kind) {
    case 'smallint':
    case 'integer':
    case 'bigint':
    case 'numeric':
    case 'real':
    case 'double precision': {
      const parsed = parseNumberFormat(format);
      return typeof parsed === 'string' ? parsed : undefined;
    }
    case 'date':
    case 'timestamp':
    case 'timestamptz': {
      if (kind !== 'date' && EPOCH_FORMATS.has(format)) return undefined;
      const compiled = compileDateTimePattern(format, kind);
      return typeof compiled === 'string' ? compiled : undefined;
    }
    default:
      return `a format is not supported for ${column.type.sql} columns`;
  }
}

/**
 * Builds the function that validates one non-empty input value for `column` and appends its COPY
 * text form (see `Coercer`). Formats are compiled here, once per column. Throws a plain Error when
 * `column.format` is unusable; call validateFormat first to report that as a config error.
 */
export function makeCoercer(column: ColumnContract): Coercer {
  const problem = validateFormat(column);
  if (problem !== undefined) throw new Error(`column "${column.name}": ${problem}`);
  const type = column.type;
  const format = column.format;
  switch (type.kind) {
    case 'smallint':
    case 'integer':
    case 'bigint':
      return withFormat(format, makeIntegerCoercer(type.kind));
    case 'numeric':
      return withFormat(
        format,
        type.precision === undefined
          ? makeNumericCoercer()
          : makeScaledNumericCoercer(type.precision, type.scale ?? 0),
      );
    case 'real':
    case 'double precision':
      return withFormat(format, makeFloatCoercer(type.kind));
    case 'boolean':
      return makeBooleanCoercer();
    case 'text':
      return makeTextCoercer();
    case 'varchar':
      return type.length === undefined ? makeTextCoercer() : makeVarcharCoercer(type.length);
    case 'date':
      return format === undefined
        ? makeIsoDateCoercer()
        : makePatternDateCoercer(compiled(compileDateTimePattern(format, 'date')));
    case 'timestamp':
    case 'timestamptz':
      return makeTimestampCoercer(type.kind, timestampSource(format, type.kind));
    case 'uuid':
      return makeUuidCoercer();
    case 'jsonb':
      return makeJsonbCoercer();
  }
}

function withFormat(format: string | undefined, inner: Coercer): Coercer {
  return format === undefined ? inner : withNumberFormat(compiled(parseNumberFormat(format)), inner);
}

export function timestampSource(
  format: string | undefined,
  kind: 'timestamp' | 'timestamptz',
): TimestampSource {
  if (format === undefined) return { kind: 'iso' };
  if (EPOCH_FORMATS.has(format)) return { kind: 'epoch', format: format as EpochFormat };
  return { kind: 'pattern', pattern: compiled(compileDateTimePattern(format, kind)) };
}

/** validateFormat has already turned any failure into a throw, so a string here is a bug. */
function compiled<T>(result: T | string): T {
  if (typeof result === 'string') throw new Error(result);
  return result;
}
