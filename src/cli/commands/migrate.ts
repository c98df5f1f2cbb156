import type { Command } from 'commander';
import { type Action, later } from '../action.js';
import { configOption, databaseUrlOption, examples } from '../options.js';

export function registerMigrate(program: Command, action: Action): void {
  program
    .command('migrate')
    .summary("create Inlet's schema and the pipelines' tables")
    .description(
      "Create or update Inlet's own schema (inlet.*) and the tables of pipelines that set createTable: true",
    )
    .addOption(configOption())
    .addOption(databaseUrlOption())
    .addHelpText(
      'after',
      examples(
        'inlet migrate',
        'inlet migrate --config examples/inlet.config.yaml --database-url postgres://…',
      ),
    )
    .action(action(later(async () => (await import('../run/migrate.js')).runMigrate)));
}
