/**
 * The S3 half of `inlet dev` in its own process, for crash tests: the real local gateway whose events
 * go to the Lambda handler and into PostgreSQL. The parent puts objects with the AWS CLI, kills this
 * process with SIGKILL, and starts it again on the same data directory.
 * Usage: node --import tsx test/harness/local-s3-child.ts <dataDir> <databaseUrl> <table>
 * Prints the gateway's endpoint once it listens; logs go to stderr as JSON lines.
 */
import { parseConfig } from '../../src/config/load.js';
import { createPool } from '../../src/db/connect.js';
import { startLocalS3 } from '../../src/local/s3.js';
import { localS3Settings } from '../../src/local/settings.js';
import { createLogger } from '../../src/observability/logger.js';

const [dataDir, url, table] = process.argv.slice(2);
if (!dataDir || !url || !table) throw new Error('usage: local-s3-child <dataDir> <databaseUrl> <table>');

const config = parseConfig(
  JSON.stringify({
    pipelines: [
      {
        name: 'crash',
        match: ['**'],
        table: `public.${table}`,
        createTable: true,
        columns: [
          { name: 'id', type: 'bigint', nullable: false },
          { name: 'payload', type: 'text' },
        ],
      },
    ],
  }),
  'local-s3-child',
);
const pool = createPool(url, { max: 2, applicationName: 'inlet-local-s3-child' });
// The gateway's variables (INLET_S3_PORT…) come from the parent, as `inlet dev`'s do from its shell.
const s3 = await startLocalS3({
  dataDir,
  config,
  pool,
  logger: createLogger({}, 'info'),
  settings: localS3Settings(),
});
process.stdout.write(`${s3.endpoint}\n`);
