import { type Command, Option } from 'commander';
import { type Action, later } from '../action.js';
import { databaseUrlOption, examples, parsePositiveInteger } from '../options.js';

export function registerRejects(program: Command, action: Action): void {
  program
    .command('rejects')
    .summary("print an ingestion's rejected rows")
    .description(
      'Print the rejected rows of one ingestion: line, record, column, raw value and reason. ' +
        'On a terminal, without --format, an aligned table of the first rows; otherwise CSV.',
    )
    .argument('<ingestion-id>', 'the ingestion id, or the 8 characters `inlet ingestions` shows (its end)')
    .addOption(
      new Option(
        '--format <format>',
        'output format (default: a table on a terminal, csv otherwise)',
      ).choices(['csv', 'json']),
    )
    .option('--limit <n>', 'print at most this many rows', parsePositiveInteger)
    .addOption(databaseUrlOption())
    .addHelpText(
      'after',
      examples(
        'inlet rejects 3f2c9a1e',
        'inlet rejects 3f2c9a1e-0c4b-4d8e-9a57-2b1f0e6d7c88 --format json > rejects.ndjson',
      ),
    )
    .action(action(later(async () => (await import('../run/rejects.js')).runRejects)));
}
