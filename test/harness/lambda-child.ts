/**
 * One Lambda invocation in its own process, for crash tests: the handler Lambda runs (`handleEvent`) is
 * given the SQS event in `<eventFile>` for objects in a file store (`<storeRoot>/<bucket>/<key>`), with the
 * pipelines of `<configFile>`. Log lines go to stdout as JSON (the parent times its kills on
 * "ingestion finished"), then the batch response as `{"response": ...}`. The parent kills it with SIGKILL
 * and hands the same batch to a fresh process, as SQS does once the visibility timeout passes.
 * Usage: node --import tsx test/harness/lambda-child.ts <databaseUrl> <storeRoot> <configFile> <eventFile>
 * (the crash suite runs it bundled by bundleChild() in test/harness/crash.ts, with plain node).
 */
import { readFile } from 'node:fs/promises';
import { parseConfig } from '../../src/config/load.js';
import { createPool } from '../../src/db/connect.js';
import { createLogger } from '../../src/observability/logger.js';
import { handleEvent } from '../../src/serverless/handler.js';
import { FileObjectStore } from '../../src/storage/file-store.js';

const [url, storeRoot, configFile, eventFile] = process.argv.slice(2);
if (!url || !storeRoot || !configFile || !eventFile) {
  throw new Error('usage: lambda-child <databaseUrl> <storeRoot> <configFile> <eventFile>');
}
const write = (line: string) => process.stdout.write(line);
const pool = createPool(url, { max: 1, applicationName: 'inlet-lambda-child' });
const response = await handleEvent(JSON.parse(await readFile(eventFile, 'utf8')), {
  store: new FileObjectStore(storeRoot),
  config: parseConfig(await readFile(configFile, 'utf8'), configFile),
  pool,
  logger: createLogger({}, 'info', write),
});
await pool.end();
write(`${JSON.stringify({ response })}\n`);
