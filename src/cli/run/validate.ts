import { stat } from 'node:fs/promises';
import { loadConfig } from '../../config/load.js';
import { findPipeline } from '../../config/route.js';
import { UsageError } from '../../errors.js';
import { lazyDatabase } from '../database.js';
import { exitCodeFor, ingestFiles } from '../ingest-files.js';
import { cliLogger, colourEnabled, paint, print } from '../output.js';
import { resultJson, resultLines } from '../results.js';
import { namedConfig } from '../settings.js';

interface ValidateOptions {
  config?: string;
  pipeline?: string;
  databaseUrl?: string;
  json?: boolean;
}

/** The first rejected rows to show: enough to see a pattern, few enough to read. */
const SHOWN_REJECTS = 10;

export async function runValidate(file: string, options: ValidateOptions): Promise<number> {
  const logger = cliLogger();
  const config = await loadConfig(namedConfig(options.config));
  if (options.pipeline !== undefined) findPipeline(config, '', options.pipeline);
  if ((await stat(file).catch(() => undefined))?.isDirectory()) {
    throw new UsageError('invalid_argument', `${file} is a directory; validate checks one file at a time`);
  }
  const colours = paint(colourEnabled(process.stdout));
  const db = lazyDatabase({ databaseUrl: options.databaseUrl, logger, migrate: true });
  try {
    const outcomes = await ingestFiles([file], {
      config,
      pipelineName: options.pipeline,
      dryRun: true,
      // A file loaded before would only answer "duplicate"; validation is about its content.
      force: true,
      logger,
      // A dry run is a real load into the real table, rolled back: it needs the database too.
      database: db.get,
      progress: options.json !== true && process.stderr.isTTY === true,
      onOutcome: async ({ result, display, table }) => {
        if (options.json) {
          const rejects = result.rejects.slice(0, SHOWN_REJECTS).map((reject) => ({
            line: reject.line ?? null,
            record: reject.record,
            column: reject.column ?? null,
            value: reject.value ?? null,
            reason: reject.reason,
          }));
          return print(resultJson(result, { dryRun: true, rejects }));
        }
        const lines = resultLines(result, {
          display,
          table,
          paint: colours,
          dryRun: true,
          showRejects: SHOWN_REJECTS,
        });
        for (const line of lines) await print(line);
      },
    });
    return exitCodeFor(outcomes);
  } finally {
    await db.close();
  }
}
