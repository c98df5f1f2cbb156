/**
 * A worker process for fault-injection tests: ingests the given files one after another into an
 * append pipeline on `table`, then prints `done`. The tests kill it with SIGKILL mid-COPY.
 * Usage: node --import tsx test/harness/ingest-child.ts <databaseUrl> <table> <file>...
 */
import { createReadStream } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createPool } from '../../src/db/connect.js';
import { ingest } from '../../src/engine/ingest.js';
import { testPipeline } from './pipelines.js';

const [url, table, ...files] = process.argv.slice(2);
if (!url || !table) throw new Error('usage: ingest-child <databaseUrl> <table> <file>...');

const pipeline = testPipeline({
  name: `fault-${table}`,
  table: { schema: 'public', name: table },
  createTable: false,
  columns: [
    { name: 'file_no', type: 'integer', nullable: false },
    { name: 'row_no', type: 'integer', nullable: false },
    { name: 'payload', type: 'text' },
  ],
});
const pool = createPool(url, { max: 1, applicationName: 'inlet-fault-child' });
for (const file of files) {
  const result = await ingest(
    {
      uri: pathToFileURL(file).href,
      name: file,
      open: async () => createReadStream(file, { highWaterMark: 64 * 1024 }),
    },
    pipeline,
    { pool, retry: { attempts: 30, baseDelayMs: 100, maxDelayMs: 1000 } },
  );
  process.stdout.write(`${JSON.stringify({ file, status: result.status, error: result.error })}\n`);
}
await pool.end();
process.stdout.write('done\n');
