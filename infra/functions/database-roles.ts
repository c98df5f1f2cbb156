/**
 * Inlet's least-privilege PostgreSQL roles on RDS, as SQL. The master user (RDS's, never used by a
 * workload) creates two login roles and gives them what their paths need, nothing more:
 *
 * - the ingest role (the Lambda function and `inlet serve`): connects, creates temporary tables (the
 *   merge's staging), and creates schemas and tables in Inlet's database, so it owns the `inlet` schema
 *   (ledger, tokens, upload keys: its migrations run as this role) and every table a pipeline creates
 *   (`createTable`). A table someone else created needs a GRANT from its owner (docs/deploy-aws.md).
 * - the status role (the API's status function): connects and reads `inlet.ingestions`; it may write
 *   nothing and read no pipeline's rows, tokens or rejected values.
 *
 * Nobody else may connect to the database (CONNECT and TEMPORARY are taken from PUBLIC). The statements
 * are idempotent: the set-up runs them again on every deployment that changes them.
 */
import { escapeLiteral } from 'pg';
import { quoteIdent } from '../../src/db/sql.js';
import { scramVerifier } from './scram-verifier.js';

export const INGEST_ROLE = 'inlet_ingest';
export const STATUS_ROLE = 'inlet_status';

/** The ledger table the status API reads (src/ledger/read.ts getIngestion, and its query by key). */
export const STATUS_TABLES = ['inlet.ingestions'] as const;

export interface RoleNames {
  readonly database: string;
  readonly ingest: string;
  readonly status: string;
}

/** Run by the master user: a login role with this password (sent as its SCRAM verifier). */
export function createRole(role: string, password: string): string {
  return `CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD ${escapeLiteral(scramVerifier(password))}`;
}

/** Run by the master user when the role exists but its secret's password does not log in. */
export function setPassword(role: string, password: string): string {
  return `ALTER ROLE ${quoteIdent(role)} PASSWORD ${escapeLiteral(scramVerifier(password))}`;
}

/** Run by the master user (the database's owner), after both roles exist. */
export function databaseGrants(names: RoleNames): string[] {
  const database = quoteIdent(names.database);
  const ingest = quoteIdent(names.ingest);
  const status = quoteIdent(names.status);
  return [
    `REVOKE ALL ON DATABASE ${database} FROM PUBLIC`,
    `GRANT CONNECT, TEMPORARY, CREATE ON DATABASE ${database} TO ${ingest}`,
    `GRANT CONNECT ON DATABASE ${database} TO ${status}`,
    // Pipelines' tables default to public (examples/inlet.config.yaml); since PostgreSQL 15 only its owner
    // may create there.
    `GRANT USAGE, CREATE ON SCHEMA public TO ${ingest}`,
  ];
}

/** Run by the ingest role, the owner of the `inlet` schema, once its migrations have run. */
export function statusGrants(names: RoleNames): string[] {
  const status = quoteIdent(names.status);
  return [
    `GRANT USAGE ON SCHEMA inlet TO ${status}`,
    ...STATUS_TABLES.map((table) => {
      const [schema = '', name = ''] = table.split('.');
      return `GRANT SELECT ON ${quoteIdent(schema)}.${quoteIdent(name)} TO ${status}`;
    }),
  ];
}
