import { sql as ledger } from './001-ledger.js';
import { sql as tokens } from './002-tokens.js';
import { sql as uploadKeys } from './003-upload-keys.js';
import { sql as snapshotRuns } from './004-snapshot-runs.js';
import { sql as contracts } from './005-contracts.js';
import { sql as uploadKeyRequests } from './006-upload-key-requests.js';
import { sql as encodedS3Sources } from './007-encoded-s3-sources.js';
import { sql as errorCodeCasing } from './008-error-code-casing.js';
import { sql as tokenChanges } from './009-token-changes.js';
import { sql as contractVersions } from './010-contract-versions.js';
import { sql as sftpUsers } from './011-sftp-users.js';

export interface Migration {
  /** Applied in ascending order; never renumber or edit a released migration, add a new one. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: 'ledger', sql: ledger },
  { version: 2, name: 'tokens', sql: tokens },
  { version: 3, name: 'upload-keys', sql: uploadKeys },
  { version: 4, name: 'snapshot-runs', sql: snapshotRuns },
  { version: 5, name: 'contracts', sql: contracts },
  { version: 6, name: 'upload-key-requests', sql: uploadKeyRequests },
  { version: 7, name: 'encoded-s3-sources', sql: encodedS3Sources },
  { version: 8, name: 'error-code-casing', sql: errorCodeCasing },
  { version: 9, name: 'token-changes', sql: tokenChanges },
  { version: 10, name: 'contract-versions', sql: contractVersions },
  { version: 11, name: 'sftp-users', sql: sftpUsers },
];
