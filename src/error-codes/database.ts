import { type ErrorCodeInfo, type ErrorCodeSection, INGESTING_DOORS } from './entry.js';

const doors = INGESTING_DOORS;

/** PostgreSQL: reaching it, what it refused, and the embedded server `inlet dev` runs. */
export const databaseCodes = {
  title: 'The database',
  intro:
    'PostgreSQL could not be reached, or refused the work. An ingestion that meets one of these ends ' +
    '`failed` with the code in the ledger when the ledger can still be written; the upload workers retry ' +
    'the unavailable kinds (`db_unreachable`, `db_connection_lost`, `db_shutdown`, `db_starting`, ' +
    '`db_too_many_connections`) for as long as it takes. A command that cannot start prints the message ' +
    'and exits 1. Passwords never appear in these messages.',
  codes: {
    db_unreachable: {
      meaning: 'PostgreSQL cannot be reached (connection refused, host unknown, network down).',
      action: 'Is it running? Check DATABASE_URL or `--database-url`.',
      doors,
      formerly: ['DB_UNREACHABLE'],
    },
    db_connection_lost: {
      meaning: 'The connection to PostgreSQL was lost, or could not be opened in time.',
      action: 'Nothing if it passes (the work is retried); otherwise check the server and the network.',
      doors,
      formerly: ['DB_CONNECTION_LOST'],
    },
    db_shutdown: {
      meaning: 'PostgreSQL shut down or restarted and ended the session.',
      action: 'Run again once it is back (the upload workers wait for it).',
      doors,
      formerly: ['DB_SHUTDOWN'],
    },
    db_starting: {
      meaning: 'PostgreSQL is not accepting connections yet.',
      action: 'Run again in a moment.',
      doors,
      formerly: ['DB_STARTING'],
    },
    db_too_many_connections: {
      meaning: 'PostgreSQL has no free connection slots.',
      action: 'Lower the concurrency (INLET_WORKERS), or raise max_connections.',
      doors,
      formerly: ['DB_TOO_MANY_CONNECTIONS'],
    },
    db_conflict: {
      meaning:
        'PostgreSQL aborted the transaction because of a concurrent one (serialization failure, deadlock).',
      action: 'Run again: it usually succeeds.',
      doors,
      formerly: ['DB_CONFLICT'],
    },
    db_auth: {
      meaning: 'PostgreSQL refused the login.',
      action: 'Check the user and password in DATABASE_URL or `--database-url`.',
      doors,
      formerly: ['DB_AUTH'],
    },
    db_not_found: {
      meaning: 'The database named in the connection string does not exist.',
      action: 'Create it, or fix its name in DATABASE_URL or `--database-url`.',
      doors,
      formerly: ['DB_NOT_FOUND'],
    },
    db_permission: {
      meaning: 'PostgreSQL denied the user a privilege it needs.',
      action: 'Grant it to the user of DATABASE_URL (the message names the object).',
      doors,
      formerly: ['DB_PERMISSION'],
    },
    db_query: {
      meaning: 'PostgreSQL refused a statement; the message quotes its error, SQLSTATE, detail and hint.',
      action: "Do what PostgreSQL says; if the statement is Inlet's own, report it.",
      doors,
      formerly: ['DB_QUERY'],
    },
    db_error: {
      meaning: 'The PostgreSQL client failed in a way none of the codes above covers.',
      action: 'Read the message; run again, and report it if it repeats.',
      doors,
      formerly: ['DB_ERROR'],
    },
    db_migration_invalid: {
      meaning: "Two of Inlet's schema migrations share a version number: a broken build.",
      action: 'Install a released version of Inlet.',
      doors,
      formerly: ['DB_MIGRATION_INVALID'],
    },
    invalid_identifier: {
      meaning:
        'A table or column name cannot be a PostgreSQL identifier: empty, with a NUL, or over 63 bytes.',
      action: "Rename it in the pipeline (or the file's header, for an inferred contract).",
      doors,
      formerly: ['INVALID_IDENTIFIER'],
    },
    no_database: {
      meaning: 'The S3-event function has neither DATABASE_URL nor INLET_DATABASE_SECRET_ARN.',
      action: 'Set one of them (the CDK stack sets the secret).',
      doors: ['lambda'],
    },
    secret_unreadable: {
      meaning: 'The database secret (INLET_DATABASE_SECRET_ARN) could not be read.',
      action: 'Let the role call secretsmanager:GetSecretValue on it (and kms:Decrypt on its key).',
      doors: ['lambda', 'upload'],
    },
    secret_malformed: {
      meaning: 'The database secret is not JSON with username, password and host.',
      action: 'Store username, password, host, port and dbname in it, as RDS writes them.',
      doors: ['lambda', 'upload'],
    },
    db_embedded_missing: {
      meaning: 'The embedded PostgreSQL binaries for this platform are not installed.',
      action: 'Run `npm ci` (its install script must be allowed), or set DATABASE_URL.',
      doors: ['cli', 'upload'],
      formerly: ['DB_EMBEDDED_MISSING'],
    },
    db_embedded_init: {
      meaning: 'The embedded PostgreSQL cluster could not be created in the data folder.',
      action: 'Fix the cause the message quotes (space, permissions), or set DATABASE_URL.',
      doors: ['cli', 'upload'],
      formerly: ['DB_EMBEDDED_INIT'],
    },
    db_embedded_start: {
      meaning:
        'The embedded PostgreSQL could not be started, or the one running for the data folder does not accept Inlet.',
      action: 'Do what the message says (stop the other server, move the folder away), or set DATABASE_URL.',
      doors: ['cli', 'upload'],
      formerly: ['DB_EMBEDDED_START'],
    },
    db_embedded_config: {
      meaning: "The embedded PostgreSQL's stored settings file in the data folder is not valid.",
      action: 'Restore it; if the cluster holds nothing you need, delete both.',
      doors: ['cli', 'upload'],
      formerly: ['DB_EMBEDDED_CONFIG'],
    },
    db_embedded_permission: {
      meaning:
        'Run as root, the embedded PostgreSQL runs as another OS user, which cannot enter the data folder.',
      action:
        'Allow it (`chmod o+x` on the folder), set INLET_DATA_DIR to a folder it can reach, or set DATABASE_URL.',
      doors: ['cli', 'upload'],
      formerly: ['DB_EMBEDDED_PERMISSION'],
    },
  },
} as const satisfies ErrorCodeSection<Record<string, ErrorCodeInfo>>;
