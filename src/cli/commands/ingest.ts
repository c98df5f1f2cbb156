import type { Command } from 'commander';
import { type Action, later } from '../action.js';
import { configOption, databaseUrlOption, examples, jsonOption, pipelineOption } from '../options.js';

const REPLACE_GUARD_HELP = `
A replace pipeline refuses a file that would leave a table holding rows with
fewer than replace.minRows rows, or fewer than replace.minRatio × the rows it
holds (default replace: { minRows: 1, minRatio: 0.5 }), such as a truncated
or header-only export: it is rejected (code replace_guard), the table unchanged.
--force loads such a file anyway; replace: { minRows: 0, minRatio: 0 } in the
pipeline allows any size.`;

export function registerIngest(program: Command, action: Action): void {
  program
    .command('ingest')
    .summary('load files into PostgreSQL')
    .description('Load files into PostgreSQL: validated against their pipeline, each file exactly once')
    .argument('<paths...>', 'files, or directories to read recursively')
    .addOption(configOption())
    .addOption(pipelineOption('send every file to this pipeline, whatever its match globs say'))
    .addOption(databaseUrlOption())
    .option(
      '--force',
      "load a file again even if these bytes were loaded before (a new ingestion), and let it shrink a replace pipeline's table past its guard",
    )
    .option(
      '--ingestion-id <uuid>',
      'the ledger id a front door assigned (a Lambda handing a large object over): one path only; a retry under the same id gets the recorded verdict back',
    )
    .option(
      '--version-id <id>',
      'read exactly this version of the one s3:// object (a hand-over names the version its ingestion id came from)',
    )
    .option(
      '--etag <etag>',
      'refuse (source_changed) unless the one s3:// object still has this ETag, rather than load newer bytes',
    )
    .addOption(jsonOption())
    .addHelpText('after', REPLACE_GUARD_HELP)
    .addHelpText(
      'after',
      examples('inlet ingest examples/data/orders.csv', 'inlet ingest incoming/ --pipeline orders --json'),
    )
    .action(action(later(async () => (await import('../run/ingest.js')).runIngest)));
}
