import type { Command } from 'commander';
import { type Action, later } from '../action.js';
import { configOption, databaseUrlOption, examples } from '../options.js';

export function registerDev(program: Command, action: Action): void {
  program
    .command('dev')
    .summary('run Inlet locally (npm start)')
    .description(
      'Run Inlet locally (what `npm start` runs): the database (embedded unless DATABASE_URL is set), ' +
        'its migrations and tables, the upload API and its worker on INLET_PORT (8080), the S3-compatible ' +
        "gateway on INLET_S3_PORT (9000), the snapshot scheduler (into the gateway's inlet-snapshots bucket), " +
        'and the example files on first start; stops on Ctrl+C. An object event the loader could not take is ' +
        'retried for an hour (30 s apart at most), then kept in <data dir>/.events/dead/: the start log counts ' +
        'them, and INLET_S3_REPLAY_DEAD=1 delivers them again',
    )
    .addOption(configOption('examples/inlet.config.yaml'))
    .addOption(databaseUrlOption())
    .addHelpText('after', examples('inlet dev', 'INLET_EXAMPLES=0 inlet dev --config inlet.config.yaml'))
    .action(action(later(async () => (await import('../run/dev.js')).runDev)));
}
