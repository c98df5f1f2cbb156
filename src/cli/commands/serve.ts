import type { Command } from 'commander';
import { type Action, later } from '../action.js';
import { configOption, databaseUrlOption, examples } from '../options.js';

export function registerServe(program: Command, action: Action): void {
  program
    .command('serve')
    .summary('run the upload API and its worker (the server shape, e.g. on EC2)')
    .description(
      'Run the upload service: PUT/POST files to /v1/files, they are spooled durably under INLET_SPOOL_DIR ' +
        'and loaded by a pool of INLET_WORKERS workers. Listens on INLET_HOST:INLET_PORT (default 0.0.0.0:8080). ' +
        'SIGTERM stops accepting, lets loads in progress finish (or hands them back to the spool) and exits. ' +
        'Snapshots the spool on INLET_SNAPSHOT_SCHEDULE (see inlet snapshot --help). ' +
        'Tokens: inlet tokens create, or INLET_API_TOKEN as a bootstrap token.',
    )
    .addOption(configOption())
    .addOption(databaseUrlOption())
    .addHelpText(
      'after',
      examples(
        'inlet serve --config inlet.config.yaml',
        'inlet serve --config /etc/inlet/inlet.config.yaml --database-url postgres://inlet@db.internal/inlet',
      ) +
        '\nThen, from a client:\n' +
        '  $ curl -H "Authorization: Bearer $TOKEN" -T orders.csv http://localhost:8080/v1/files/orders.csv\n',
    )
    .action(action(later(async () => (await import('../run/serve.js')).runServe)));
}
