import { type Command, Option } from 'commander';
import { DEFAULT_SAMPLE_ROWS } from '../../infer/sample-size.js';
import { type Action, later } from '../action.js';
import { examples, parsePositiveInteger } from '../options.js';

const FORMATS = ['auto', 'csv', 'tsv', 'ndjson', 'json', 'parquet', 'xlsx'];

export function registerInfer(program: Command, action: Action): void {
  program
    .command('infer')
    .summary('propose a pipeline contract from a sample of a file')
    .description(
      'Read a sample of a file (CSV, TSV, NDJSON, JSON, Parquet or XLSX, compressed or not) and print a proposed pipeline as YAML: ' +
        'safe column names, the narrowest type that fits every sampled value, nullability and a key candidate, with comments ' +
        'on how sure each guess is. Nothing is loaded and no database is needed.',
    )
    .argument('<file>', 'a local file, file:// or s3:// URI')
    .option('--table <name>', 'target table, "schema.name" or "name" (default: public.<file name>)')
    .option(
      '--sample <rows>',
      `rows to read (default: ${DEFAULT_SAMPLE_ROWS}); more rows, surer guesses`,
      parsePositiveInteger,
    )
    .addOption(
      new Option('--format <format>', 'read the file as this format (default: detected)').choices(FORMATS),
    )
    .option(
      '--sheet <name|number>',
      'XLSX: the sheet to read, by name or 1-based position (default: the first)',
    )
    .option(
      '--header-row <row>',
      'XLSX: the row that holds the column names (default: 1)',
      parsePositiveInteger,
    )
    .addHelpText(
      'after',
      examples(
        'inlet infer export.csv > pipeline.yaml',
        'inlet infer orders.parquet --table sales.orders',
        'inlet infer book.xlsx --sheet Orders --header-row 3 --sample 5000',
      ),
    )
    .action(action(later(async () => (await import('../run/infer.js')).runInfer)));
}
