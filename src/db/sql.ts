import { InletError } from '../errors.js';

/** PostgreSQL silently truncates longer identifiers (NAMEDATALEN - 1), which would make two names collide. */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * Quotes `name` as a PostgreSQL identifier, so any spelling (spaces, capitals, quotes, keywords)
 * names exactly one object and can never end the identifier early.
 */
export function quoteIdent(name: string): string {
  if (name.length === 0) {
    throw new InletError('invalid_identifier', 'An empty name cannot be used as a PostgreSQL identifier.');
  }
  if (name.includes('\0')) {
    throw new InletError(
      'invalid_identifier',
      `The name ${JSON.stringify(name)} contains a NUL character, which PostgreSQL identifiers cannot hold. Rename it.`,
    );
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    throw new InletError(
      'invalid_identifier',
      `The name ${JSON.stringify(name)} is ${bytes} bytes long; PostgreSQL identifiers hold at most ${MAX_IDENTIFIER_BYTES} bytes (UTF-8). Use a shorter name.`,
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}

export interface TableName {
  readonly schema: string;
  readonly name: string;
}

/** `"schema"."name"`, each part quoted on its own so a dot inside a name stays part of that name. */
export function quoteTable(table: TableName): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

/**
 * `text` as a PostgreSQL string literal, for the few places a value must be part of a statement's text
 * (DDL takes no parameters): quotes doubled, and backslashes too in an `E''` literal, as pg's escapeLiteral.
 */
export function quoteLiteral(text: string): string {
  const quoted = text.replaceAll("'", "''");
  return text.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}
