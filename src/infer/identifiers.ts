/**
 * Safe PostgreSQL identifiers from whatever a file calls its columns: lowercase snake_case of ASCII
 * letters, digits and underscores, starting with a letter, at most 63 bytes, not a reserved word,
 * unique within the table. Inlet quotes every identifier anyway; these rules make the names pleasant
 * to type in SQL without quotes.
 */
import { MAX_IDENTIFIER_BYTES } from '../db/sql.js';

/** PostgreSQL's reserved key words (SQL Key Words appendix: "reserved" and "reserved (can be function or type)"). */
const RESERVED = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation ' +
    'column concurrently constraint create cross current_catalog current_date current_role current_schema current_time ' +
    'current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign freeze ' +
    'from full grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit ' +
    'localtime localtimestamp natural not notnull null offset on only or order outer overlaps placing primary references ' +
    'returning right select session_user similar some symmetric system_user table tablesample then to trailing true ' +
    'union unique user using variadic verbose when where window with'
  ).split(' '),
);

export function isReserved(name: string): boolean {
  return RESERVED.has(name);
}

/** `Customer Name` → `customer_name`, `orderID` → `order_id`, `Préférence €` → `preference`, `2024 total` → `c_2024_total`. */
export function toIdentifier(raw: string, fallback: string): string {
  let name = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    // camelCase and PascalCase boundaries: orderID → order_ID, HTTPStatus → HTTP_Status.
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (name === '') name = fallback;
  if (/^[0-9]/.test(name)) name = `c_${name}`;
  name = truncate(name, MAX_IDENTIFIER_BYTES);
  if (RESERVED.has(name)) name = `${truncate(name, MAX_IDENTIFIER_BYTES - 1)}_`;
  return name;
}

function truncate(name: string, bytes: number): string {
  return name.length > bytes ? name.slice(0, bytes).replace(/_+$/, '') : name;
}

/** Identifiers for every column, made unique with `_2`, `_3`… (still within 63 bytes). */
export function uniqueIdentifiers(raw: readonly string[]): string[] {
  const taken = new Set<string>();
  return raw.map((name, i) => {
    const base = toIdentifier(name, `column_${i + 1}`);
    let candidate = base;
    for (let n = 2; taken.has(candidate); n++) {
      const suffix = `_${n}`;
      candidate = truncate(base, MAX_IDENTIFIER_BYTES - suffix.length) + suffix;
    }
    taken.add(candidate);
    return candidate;
  });
}
