import type { Command } from 'commander';
import { LEDGER_STATUSES } from '../../ledger/read.js';
import { type Action, later } from '../action.js';
import { databaseUrlOption, examples, jsonOption, parsePositiveInteger, pipelineOption } from '../options.js';

export function registerIngestions(program: Command, action: Action): void {
  program
    .command('ingestions')
    .summary('list recent ingestions')
    .description('List recent ingestions from the ledger, newest first')
    .option('--status <status>', `only this status: ${LEDGER_STATUSES.join(', ')}`)
    .addOption(pipelineOption('only this pipeline'))
    .option('--limit <n>', 'how many to show', parsePositiveInteger, 20)
    .addOption(databaseUrlOption())
    .addOption(jsonOption())
    .addHelpText('after', examples('inlet ingestions', 'inlet ingestions --status rejected --limit 5 --json'))
    .action(action(later(async () => (await import('../run/ingestions.js')).runIngestions)));
}
