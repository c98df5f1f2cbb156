import { type Command, Option } from 'commander';
import { csvRow } from '../../ledger/csv-export.js';
import { eachReject, REJECT_CSV_HEADER, rejectView, resolveIngestionId } from '../../ledger/read.js';
import type { Action } from '../action.js';
import { withDatabase } from '../database.js';
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
    .argument('<ingestion-id>', 'the ingestion id, or the 8 characters `inlet ingestions` shows (its end)')
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

async function runRejects(idArgument: string, options: RejectsOptions): Promise<number> {
  await withDatabase({ databaseUrl: options.databaseUrl, logger: cliLogger() }, async (db) => {
    const id = await resolveIngestionId(db.pool, idArgument);
    if (options.format === 'csv') await write(csvRow(REJECT_CSV_HEADER));
    await eachReject(db.pool, id, options.limit ?? null, async (row) => {
      const view = rejectView(row);
      if (options.format === 'csv') {
        await write(csvRow([view.line, view.record, view.column, view.value, view.reason]));
      } else {
        await print(JSON.stringify(view));
      }
    });
  });
  return 0;
}
