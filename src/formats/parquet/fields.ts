/**
 * Parquet columns as Inlet reads them: each top-level column's physical and logical type decides how
 * its values become text for the contract's coercers (the same path, rejects and thresholds as CSV)
 * and which PostgreSQL type `inlet infer` proposes.
 *
 * Decimals, dates, timestamps, times and JSON are read as their raw physical values (hyparquet's own
 * conversions go through JavaScript numbers and Dates, which lose digits and microseconds) and
 * written here exactly. Nested columns (LIST, MAP, STRUCT, repeated fields) become JSON.
 */
import type { SchemaElement, SchemaTree } from 'hyparquet';

export type TimeUnit = 'MILLIS' | 'MICROS' | 'NANOS';

export type ParquetKind =
  | { readonly kind: 'boolean' }
  | { readonly kind: 'integer'; readonly bits: 8 | 16 | 32 | 64; readonly signed: boolean }
  | { readonly kind: 'float'; readonly single: boolean }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'string' }
  | { readonly kind: 'binary' }
  | { readonly kind: 'json' }
  | { readonly kind: 'uuid' }
  | { readonly kind: 'date' }
  | { readonly kind: 'timestamp'; readonly unit: TimeUnit; readonly utc: boolean }
  /** Legacy INT96 timestamps (Spark, Impala): instants, read as ISO strings in UTC. */
  | { readonly kind: 'int96' }
  | { readonly kind: 'time'; readonly unit: TimeUnit }
  | { readonly kind: 'nested'; readonly what: string }
  | { readonly kind: 'unsupported'; readonly what: string };

export interface ParquetField {
  readonly name: string;
  readonly type: ParquetKind;
  readonly nullable: boolean;
  /** How the column is spelled in the file, for messages and infer comments, e.g. `INT64 TIMESTAMP(MICROS, UTC)`. */
  readonly spelled: string;
}

/** The logical types whose annotation is removed so that hyparquet hands over raw physical values. */
const READ_RAW = new Set([
  'DECIMAL',
  'DATE',
  'TIMESTAMP',
  'TIMESTAMP_MILLIS',
  'TIMESTAMP_MICROS',
  'TIME',
  'TIME_MILLIS',
  'TIME_MICROS',
  'JSON',
  'INTERVAL',
  'BSON',
]);

export function describeFields(schema: SchemaTree): ParquetField[] {
  return schema.children.map((child) => {
    const element = child.element;
    return {
      name: element.name,
      type: classify(child),
      nullable: element.repetition_type !== 'REQUIRED',
      spelled: spell(child),
    };
  });
}

/** A copy of the schema elements with top-level annotations in READ_RAW removed. */
export function rawSchema(elements: readonly SchemaElement[], schema: SchemaTree): SchemaElement[] {
  const topLeaves = new Set(schema.children.filter((c) => c.children.length === 0).map((c) => c.element));
  return elements.map((element) => {
    if (!topLeaves.has(element)) return element;
    const logical = element.logical_type?.type;
    const converted = element.converted_type;
    if ((logical && READ_RAW.has(logical)) || (converted && READ_RAW.has(converted))) {
      const { converted_type: _c, logical_type: _l, ...rest } = element;
      return rest;
    }
    return element;
  });
}

function classify(node: SchemaTree): ParquetKind {
  const element = node.element;
  if (node.children.length > 0) {
    const logical = element.logical_type?.type ?? element.converted_type;
    return { kind: 'nested', what: logical === 'LIST' || logical === 'MAP' ? logical : 'STRUCT' };
  }
  if (element.repetition_type === 'REPEATED') return { kind: 'nested', what: 'repeated field' };
  const logical = element.logical_type;
  const converted = element.converted_type;
  const physical = element.type;
  if (logical?.type === 'DECIMAL' || converted === 'DECIMAL') {
    return {
      kind: 'decimal',
      precision: logical?.type === 'DECIMAL' ? logical.precision : (element.precision ?? 38),
      scale: logical?.type === 'DECIMAL' ? logical.scale : (element.scale ?? 0),
    };
  }
  if (logical?.type === 'TIMESTAMP')
    return { kind: 'timestamp', unit: logical.unit, utc: logical.isAdjustedToUTC };
  if (converted === 'TIMESTAMP_MILLIS') return { kind: 'timestamp', unit: 'MILLIS', utc: true };
  if (converted === 'TIMESTAMP_MICROS') return { kind: 'timestamp', unit: 'MICROS', utc: true };
  if (logical?.type === 'TIME') return { kind: 'time', unit: logical.unit };
  if (converted === 'TIME_MILLIS') return { kind: 'time', unit: 'MILLIS' };
  if (converted === 'TIME_MICROS') return { kind: 'time', unit: 'MICROS' };
  if (logical?.type === 'DATE' || converted === 'DATE') return { kind: 'date' };
  if (logical?.type === 'JSON' || converted === 'JSON') return { kind: 'json' };
  if (logical?.type === 'UUID') return { kind: 'uuid' };
  if (
    logical?.type === 'STRING' ||
    logical?.type === 'ENUM' ||
    converted === 'UTF8' ||
    converted === 'ENUM'
  ) {
    return { kind: 'string' };
  }
  if (logical?.type === 'INTEGER') {
    return { kind: 'integer', bits: logical.bitWidth as 8 | 16 | 32 | 64, signed: logical.isSigned };
  }
  const sized = /^(U?)INT_(8|16|32|64)$/.exec(converted ?? '');
  if (sized) return { kind: 'integer', bits: Number(sized[2]) as 8 | 16 | 32 | 64, signed: sized[1] === '' };
  if (logical?.type === 'FLOAT16') return { kind: 'float', single: true };
  if (logical?.type === 'VARIANT' || logical?.type === 'GEOMETRY' || logical?.type === 'GEOGRAPHY') {
    return { kind: 'nested', what: logical.type };
  }
  if (
    converted === 'INTERVAL' ||
    logical?.type === 'INTERVAL' ||
    converted === 'BSON' ||
    logical?.type === 'BSON'
  ) {
    return { kind: 'unsupported', what: converted ?? logical?.type ?? 'unknown' };
  }
  switch (physical) {
    case 'BOOLEAN':
      return { kind: 'boolean' };
    case 'INT32':
      return { kind: 'integer', bits: 32, signed: true };
    case 'INT64':
      return { kind: 'integer', bits: 64, signed: true };
    case 'INT96':
      return { kind: 'int96' };
    case 'FLOAT':
      return { kind: 'float', single: true };
    case 'DOUBLE':
      return { kind: 'float', single: false };
    default:
      return { kind: 'binary' };
  }
}

function spell(node: SchemaTree): string {
  const element = node.element;
  if (node.children.length > 0) {
    const logical = element.logical_type?.type ?? element.converted_type;
    return logical === 'LIST' || logical === 'MAP' ? logical : 'STRUCT';
  }
  const logical = element.logical_type;
  let annotation = '';
  if (logical?.type === 'TIMESTAMP' || logical?.type === 'TIME') {
    annotation = `${logical.type}(${logical.unit}${logical.isAdjustedToUTC ? ', UTC' : ''})`;
  } else if (logical?.type === 'DECIMAL') annotation = `DECIMAL(${logical.precision},${logical.scale})`;
  else if (logical?.type === 'INTEGER')
    annotation = `INT(${logical.bitWidth}, ${logical.isSigned ? 'signed' : 'unsigned'})`;
  else if (logical) annotation = logical.type;
  else if (element.converted_type === 'DECIMAL')
    annotation = `DECIMAL(${element.precision},${element.scale})`;
  else if (element.converted_type) annotation = element.converted_type;
  const repeated = element.repetition_type === 'REPEATED' ? 'repeated ' : '';
  return `${repeated}${element.type ?? 'group'}${annotation ? ` ${annotation}` : ''}`;
}
