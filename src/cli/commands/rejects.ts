import { type Command, Option } from 'commander';
import type pg from 'pg';
import { InletError, UsageError } from '../../errors.js';
import type { Action } from '../action.js';
import { csvRow } from '../csv-export.js';
import { isUndefinedTable, withDatabase } from '../database.js';
import { databaseUrlOption, examples, parsePositiveInteger } from '../options.js';
import { cliLogger, print, write } from '../output.js';

interface RejectsOptions {
  format: 'csv' | 'json';
  limit?: number;
  databaseUrl?: string;
}

export function registerRejects(program: Command, action: Action): void {
  program
    .command('rejects')
    .summary("print an ingestion's rejected rows")
    .description('Print the rejected rows of one ingestion: line, record, column, raw value and reason')
    .argument('<ingestion-id>', 'the ingestion id, or the 8 characters `inlet ingestions` shows')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('--limit <n>', 'print at most this many rows', parsePositiveInteger)
    .addOption(databaseUrlOption())
    .addHelpText(
      'after',
      examples(
        'inlet rejects 3f2c9a1e',
        'inlet rejects 3f2c9a1e-0c4b-4d8e-9a57-2b1f0e6d7c88 --format json > rejects.ndjson',
      ),
    )
    .action(action(runRejects));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHORT_ID = /^[0-9a-f]{8}$/i;
/** Rows fetched per round trip: flat memory whatever the number of rejects. */
const BATCH = 1000;

interface Row {
  line: string | null;
  record: string | null;
  column_name: string | null;
  raw_value: string | null;
  reason: string;
}

async function runRejects(idArgument: string, options: RejectsOptions): Promise<number> {
  if (!UUID.test(idArgument) && !SHORT_ID.test(idArgument)) {
    throw new UsageError(
      'invalid_argument',
      `"${idArgument}" is not an ingestion id: expected a UUID or its first 8 characters, as \`inlet ingestions\` shows`,
    );
  }
  await withDatabase({ databaseUrl: options.databaseUrl, logger: cliLogger() }, async (db) => {
    const id = await resolveId(db.pool, idArgument.toLowerCase());
    if (options.format === 'csv') await write(csvRow(['line', 'record', 'column', 'value', 'reason']));
    await eachReject(db.pool, id, options.limit ?? null, async (row) => {
      const line = row.line === null ? null : Number(row.line);
      const record = row.record === null ? null : Number(row.record);
      if (options.format === 'csv') {
        await write(csvRow([line, record, row.column_name, row.raw_value, row.reason]));
      } else {
        await print(
          JSON.stringify({ line, record, column: row.column_name, value: row.raw_value, reason: row.reason }),
        );
      }
    });
  });
  return 0;
}

async function resolveId(pool: pg.Pool, id: string): Promise<string> {
  let rows: { id: string }[];
  try {
    const query = UUID.test(id)
      ? { text: 'SELECT id FROM inlet.ingestions WHERE id = $1', values: [id] }
      : { text: `SELECT id FROM inlet.ingestions WHERE id::text LIKE $1 || '%' LIMIT 5`, values: [id] };
    rows = (await pool.query<{ id: string }>(query)).rows;
  } catch (error) {
    if (!isUndefinedTable(error)) throw error;
    rows = [];
  }
  const [first] = rows;
  if (first === undefined) {
    throw new InletError('not_found', `no ingestion ${id}; list recent ones with: inlet ingestions`);
  }
  if (rows.length > 1) {
    const ids = rows.map((row) => row.id).join(', ');
    throw new UsageError('ambiguous_id', `"${id}" matches several ingestions (${ids}); give the full id`);
  }
  return first.id;
}

/** Streams through a server-side cursor rather than loading every reject of a large file at once. */
async function eachReject(
  pool: pg.Pool,
  id: string,
  limit: number | null,
  visit: (row: Row) => Promise<void>,
): Promise<void> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(
      `DECLARE rejects_cursor NO SCROLL CURSOR FOR
         SELECT line, record, column_name, raw_value, reason
           FROM inlet.rejects WHERE ingestion_id = $1
          ORDER BY record, line
          LIMIT $2`,
      [id, limit],
    );
    for (;;) {
      const { rows } = await client.query<Row>(`FETCH ${BATCH} FROM rejects_cursor`);
      for (const row of rows) await visit(row);
      if (rows.length < BATCH) break;
    }
    await client.query('COMMIT');
  } catch (error) {
    failure = error as Error;
    throw error;
  } finally {
    // A connection left inside a failed transaction must not go back to the pool.
    client.release(failure);
  }
}
