/**
 * Streaming JSON record readers. Both yield batches of records per input chunk and keep only the
 * record in progress in memory.
 */
export { readJsonArray } from './json-array.js';
export {
  DEFAULT_MAX_RECORD_BYTES,
  type JsonReaderOptions,
  type JsonRecord,
  JsonSyntaxIssue,
  readNdjson,
} from './ndjson.js';
