/**
 * Error codes take one casing, lower snake_case (src/error-codes/, docs/errors.md "Renamed codes"): the
 * codes older versions stored otherwise are renamed in the rows that hold them, so `inlet ingestions`,
 * `GET /v1/ingestions` and `GET /v1/snapshots` show only codes of the catalogue. The list is this
 * migration's own (a released migration never changes); the `formerly` of each catalogue entry names the
 * same pairs, and test/integration/db/error-code-casing.test.ts checks that they agree.
 */
export const renamedErrorCodes: Readonly<Record<string, string>> = {
  DB_UNREACHABLE: 'db_unreachable',
  DB_CONNECTION_LOST: 'db_connection_lost',
  DB_SHUTDOWN: 'db_shutdown',
  DB_STARTING: 'db_starting',
  DB_TOO_MANY_CONNECTIONS: 'db_too_many_connections',
  DB_CONFLICT: 'db_conflict',
  DB_AUTH: 'db_auth',
  DB_NOT_FOUND: 'db_not_found',
  DB_PERMISSION: 'db_permission',
  DB_QUERY: 'db_query',
  DB_ERROR: 'db_error',
  DB_MIGRATION_INVALID: 'db_migration_invalid',
  DB_EMBEDDED_MISSING: 'db_embedded_missing',
  DB_EMBEDDED_INIT: 'db_embedded_init',
  DB_EMBEDDED_START: 'db_embedded_start',
  DB_EMBEDDED_CONFIG: 'db_embedded_config',
  DB_EMBEDDED_PERMISSION: 'db_embedded_permission',
  INVALID_IDENTIFIER: 'invalid_identifier',
  // An error without a code of its own: the CLI said internal_error, the workers and the scheduler failed.
  internal_error: 'internal',
  failed: 'internal',
  invalid_environment: 'invalid_setting',
  invalid_port: 'invalid_setting',
};

const pairs = Object.entries(renamedErrorCodes)
  .map(([from, to]) => `('${from}', '${to}')`)
  .join(',\n    ');

export const sql = `
UPDATE inlet.ingestions AS row SET error_code = renamed.code
  FROM (VALUES
    ${pairs}) AS renamed(old, code)
 WHERE row.error_code = renamed.old;

UPDATE inlet.snapshot_runs AS row SET error_code = renamed.code
  FROM (VALUES
    ${pairs}) AS renamed(old, code)
 WHERE row.error_code = renamed.old;
`;
