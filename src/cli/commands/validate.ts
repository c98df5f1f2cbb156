import type { Command } from 'commander';
import { type Action, later } from '../action.js';
import { configOption, databaseUrlOption, examples, jsonOption, pipelineOption } from '../options.js';

export function registerValidate(program: Command, action: Action): void {
  program
    .command('validate')
    .summary('check a file without loading it')
    .description(
      'Check a file against its pipeline without committing anything: the rows that would load and the first rejects',
    )
    .argument('<file>', 'the file to check')
    .addOption(pipelineOption('check against this pipeline, whatever its match globs say'))
    .addOption(configOption())
    .addOption(databaseUrlOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      examples('inlet validate examples/data/orders.csv', 'inlet validate export.csv --pipeline orders'),
    )
    .action(action(later(async () => (await import('../run/validate.js')).runValidate)));
}
