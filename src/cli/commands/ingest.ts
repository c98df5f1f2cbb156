import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { findPipeline } from '../../config/route.js';
import { UsageError } from '../../errors.js';
import { expandPaths } from '../../storage/file-source.js';
import type { Action } from '../action.js';
import { lazyDatabase } from '../database.js';
import { exitCodeFor, type FileOutcome, ingestFiles } from '../ingest-files.js';
import { configOption, databaseUrlOption, examples, jsonOption, pipelineOption } from '../options.js';
import { cliLogger, colourEnabled, paint, print } from '../output.js';
import { resultJson, resultLines } from '../results.js';
import { namedConfig } from '../settings.js';

interface IngestOptions {
  config?: string;
  pipeline?: string;
  databaseUrl?: string;
  force?: boolean;
  json?: boolean;
}

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
    .addOption(jsonOption())
    .addHelpText('after', REPLACE_GUARD_HELP)
    .addHelpText(
      'after',
      examples('inlet ingest examples/data/orders.csv', 'inlet ingest incoming/ --pipeline orders --json'),
    )
    .action(action(runIngest));
}

async function runIngest(paths: string[], options: IngestOptions): Promise<number> {
  const logger = cliLogger();
  const config = await loadConfig(namedConfig(options.config));
  // An unknown --pipeline is a usage error before any file is touched.
  if (options.pipeline !== undefined) findPipeline(config, '', options.pipeline);
  const files = await expandPaths(paths);
  if (files.length === 0)
    throw new UsageError(
      'no_files',
      `no files found in ${paths.join(', ')}: check the paths (folders are read recursively, hidden files skipped)`,
    );
  const colours = paint(colourEnabled(process.stdout));
  const db = lazyDatabase({ databaseUrl: options.databaseUrl, logger, migrate: true });
  try {
    const outcomes = await ingestFiles(files, {
      config,
      pipelineName: options.pipeline,
      force: options.force === true,
      forceReplace: options.force === true,
      logger,
      database: db.get,
      progress: options.json !== true && process.stderr.isTTY === true,
      onOutcome: async (outcome: FileOutcome) => {
        if (options.json) return print(resultJson(outcome.result));
        for (const line of resultLines(outcome.result, { ...outcome, paint: colours })) await print(line);
      },
    });
    return exitCodeFor(outcomes);
  } finally {
    await db.close();
  }
}
