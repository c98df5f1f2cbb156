import { findPipeline } from '../../config/route.js';
import { UsageError } from '../../errors.js';
import { expandPaths } from '../../storage/file-source.js';
import { lazyDatabase } from '../database.js';
import { loadIngestConfig } from '../ingest-config.js';
import { exitCodeFor, type FileOutcome, ingestFiles } from '../ingest-files.js';
import { cliLogger, colourEnabled, paint, print } from '../output.js';
import { resultJson, resultLines } from '../results.js';
import { namedConfig, notifyTopicArn } from '../settings.js';

interface IngestOptions {
  config?: string;
  pipeline?: string;
  databaseUrl?: string;
  force?: boolean;
  ingestionId?: string;
  versionId?: string;
  etag?: string;
  json?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function runIngest(paths: string[], options: IngestOptions): Promise<number> {
  const logger = cliLogger();
  if (options.ingestionId !== undefined && (paths.length !== 1 || !UUID.test(options.ingestionId))) {
    throw new UsageError(
      'invalid_argument',
      `--ingestion-id takes one UUID and exactly one path (got ${JSON.stringify(options.ingestionId)} for ${paths.length} paths): it names one ingestion of one object`,
    );
  }
  const pinned = options.versionId !== undefined || options.etag !== undefined;
  if (pinned && (paths.length !== 1 || !paths[0]?.startsWith('s3://'))) {
    throw new UsageError(
      'invalid_argument',
      `--version-id and --etag name one version of one s3:// object (got ${paths.length} paths: ${paths.join(', ')}): give exactly one s3://bucket/key`,
    );
  }
  // With INLET_NOTIFY_TOPIC_ARN set (the hand-over task has it), each file's ingestion is announced on the
  // topic as the Lambda announces its own; the notifier loads only then.
  const topic = notifyTopicArn();
  const notifier =
    topic === undefined
      ? undefined
      : (await import('../../observability/notify.js')).notifierFor(topic, logger);
  const db = lazyDatabase({ databaseUrl: options.databaseUrl, logger, migrate: true });
  // Connecting is mostly waiting on the server: it goes on while the config is read.
  db.warm();
  try {
    const config = await loadIngestConfig(namedConfig(options.config));
    // An unknown --pipeline is a usage error before any file is touched.
    if (options.pipeline !== undefined) findPipeline(config, '', options.pipeline);
    const files = await expandPaths(paths);
    if (files.length === 0)
      throw new UsageError(
        'no_files',
        `no files found in ${paths.join(', ')}: check the paths (folders are read recursively, hidden files skipped)`,
      );
    // One path can be a folder of many files, which one ledger id cannot name.
    if (options.ingestionId !== undefined && files.length !== 1) {
      throw new UsageError(
        'invalid_argument',
        `--ingestion-id names one ingestion of one file, and ${paths[0]} holds ${files.length}: give the file itself`,
      );
    }
    const colours = paint(colourEnabled(process.stdout));
    const outcomes = await ingestFiles(files, {
      config,
      pipelineName: options.pipeline,
      force: options.force === true,
      forceReplace: options.force === true,
      ...(options.ingestionId === undefined ? {} : { ingestionId: options.ingestionId.toLowerCase() }),
      ...(pinned
        ? {
            pin: {
              ...(options.versionId === undefined ? {} : { versionId: options.versionId }),
              ...(options.etag === undefined ? {} : { etag: options.etag.replace(/^"|"$/g, '') }),
            },
          }
        : {}),
      logger,
      database: db.get,
      progress: options.json !== true && process.stderr.isTTY === true,
      onOutcome: async (outcome: FileOutcome) => {
        const { result } = outcome;
        // A file no pipeline took has no ingestion to announce.
        if (notifier !== undefined && result.pipeline !== null)
          await notifier.ingestionFinished({ ...result, pipeline: result.pipeline });
        if (options.json) return print(resultJson(outcome.result));
        for (const line of resultLines(outcome.result, { ...outcome, paint: colours })) await print(line);
      },
    });
    return exitCodeFor(outcomes);
  } finally {
    await db.close();
  }
}
