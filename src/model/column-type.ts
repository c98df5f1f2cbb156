import type { ColumnType, ScalarKind } from './contract.js';

const ALIASES: Record<string, ScalarKind> = {
  smallint: 'smallint',
  int2: 'smallint',
  integer: 'integer',
  int: 'integer',
  int4: 'integer',
  bigint: 'bigint',
  int8: 'bigint',
  numeric: 'numeric',
  decimal: 'numeric',
  real: 'real',
  float4: 'real',
  'double precision': 'double precision',
  float8: 'double precision',
  double: 'double precision',
  boolean: 'boolean',
  bool: 'boolean',
  text: 'text',
  varchar: 'varchar',
  'character varying': 'varchar',
  date: 'date',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  timestamptz: 'timestamptz',
  'timestamp with time zone': 'timestamptz',
  uuid: 'uuid',
  jsonb: 'jsonb',
};

export const SUPPORTED_TYPES =
  'smallint, integer, bigint, numeric(p,s), real, double precision, boolean, text, varchar(n), date, timestamp, timestamptz, uuid, jsonb';

/**
 * Parses a contract type such as `numeric(12,2)` or `varchar(40)`.
 * Returns a reason string instead of throwing so the config loader can attach the key path.
 */
export function parseColumnType(input: string): ColumnType | string {
  const spelled = input.trim().toLowerCase().replace(/\s+/g, ' ');
  const match = /^([a-z0-9 ]+?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/.exec(spelled);
  const kind = match?.[1] === undefined ? undefined : ALIASES[match[1]];
  if (!match || kind === undefined) return `unknown type "${input}"; supported: ${SUPPORTED_TYPES}`;
  const first = match[2] === undefined ? undefined : Number(match[2]);
  const second = match[3] === undefined ? undefined : Number(match[3]);
  switch (kind) {
    case 'numeric': {
      if (first === undefined) return { kind, sql: 'numeric' };
      const scale = second ?? 0;
      if (first < 1 || first > 1000) return `numeric precision must be between 1 and 1000, got ${first}`;
      if (scale > first) return `numeric scale ${scale} cannot exceed precision ${first}`;
      return { kind, precision: first, scale, sql: `numeric(${first},${scale})` };
    }
    case 'varchar': {
      if (second !== undefined) return `varchar takes one length, e.g. varchar(40)`;
      if (first === undefined) return { kind, sql: 'varchar' };
      if (first < 1 || first > 10_485_760)
        return `varchar length must be between 1 and 10485760, got ${first}`;
      return { kind, length: first, sql: `varchar(${first})` };
    }
    default:
      if (first !== undefined) return `type ${kind} takes no parameters (got "${input}")`;
      return { kind, sql: kind };
  }
}

/** True for types whose empty input is NULL rather than an empty string. */
export function emptyIsNull(type: ColumnType): boolean {
  return type.kind !== 'text' && type.kind !== 'varchar';
}

/** Types whose values are numbers: a number `format` or `decimalSeparator` applies to them alone. */
export function isNumberType(type: ColumnType): boolean {
  switch (type.kind) {
    case 'smallint':
    case 'integer':
    case 'bigint':
    case 'numeric':
    case 'real':
    case 'double precision':
      return true;
    default:
      return false;
  }
}
