import type { Command } from 'commander';
import { type Action, later } from '../action.js';
import { configOption, databaseUrlOption, examples, jsonOption } from '../options.js';

const CONTRACTS_HELP = `
Version 1 is the contract the configuration gives (or, with infer: true, the
one the pipeline's first file decided). Under onDrift: evolve, each file that
brings a column the contract lacks adds it to the table and makes a new
version: the columns it added, the ALTER TABLE it ran, and its origin (the
ingestion id, the file, the time). A pipeline's contract is version 1 plus
every later version's columns; a column listed in the configuration since
then is the configuration's. --json prints one JSON object per version.`;

export function registerContracts(program: Command, action: Action): void {
  program
    .command('contracts')
    .summary("list the versions of a pipeline's contract")
    .description(
      "List the versions of a pipeline's contract: the configured columns, then each set of columns a file added under onDrift: evolve, with the DDL and the ingestion that ran it",
    )
    .argument('<pipeline>', 'the pipeline, by its name in the config')
    .addOption(configOption())
    .addOption(databaseUrlOption())
    .addOption(jsonOption())
    .addHelpText('after', CONTRACTS_HELP)
    .addHelpText('after', examples('inlet contracts orders', 'inlet contracts orders --json'))
    .action(action(later(async () => (await import('../run/contracts.js')).runContracts)));
}
