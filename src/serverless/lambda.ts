/**
 * The AWS Lambda entry point (`npm run build:lambda` bundles it into dist-deploy/lambda/index.mjs).
 * Everything that can outlive one invocation — the config, the S3 client, one database
 * connection — is built once per warm container; Powertools writes JSON logs and CloudWatch
 * Embedded Metric Format.
 */
import { readFile } from 'node:fs/promises';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { parseConfig } from '../config/load.js';
import { createPool } from '../db/connect.js';
import { databaseFromSecret } from '../db/secret.js';
import type { Logger } from '../observability/logger.js';
import { type Notifier, notifierFor } from '../observability/notify.js';
import { openStore, readObjectText } from '../storage/open-store.js';
import { S3ObjectStore } from '../storage/s3-store.js';
import { ecsHandOver } from './ecs-hand-over.js';
import { type HandlerDeps, handleEvent, type MetricsSink } from './handler.js';
import { type LambdaSettings, lambdaSettings } from './settings.js';

const powertools = new PowertoolsLogger({ serviceName: 'inlet' });
const metrics = new Metrics({ namespace: 'Inlet', serviceName: 'inlet' });

let deps: Promise<HandlerDeps> | undefined;

export async function handler(event: unknown, context?: Context): Promise<SQSBatchResponse | undefined> {
  if (context) powertools.addContext(context);
  deps ??= buildDeps().catch((error: unknown) => {
    // A failed start (bad config, no database URL) is retried on the next invocation.
    deps = undefined;
    throw error;
  });
  try {
    const built = await deps;
    return await handleEvent(
      event,
      context ? { ...built, remainingMs: () => context.getRemainingTimeInMillis() } : built,
    );
  } finally {
    metrics.publishStoredMetrics();
  }
}

async function buildDeps(): Promise<HandlerDeps> {
  const settings = lambdaSettings();
  const store = new S3ObjectStore(settings.s3);
  const text = settings.config.startsWith('s3://')
    ? await readObjectText(openStore(settings.config, { s3: () => store }))
    : await readFile(settings.config, 'utf8');
  const database = await connection(settings.database);
  return {
    store,
    config: parseConfig(text, settings.config),
    // One connection per container: Lambda runs one invocation at a time per instance.
    pool: createPool(database.url, {
      max: 1,
      applicationName: 'inlet-lambda',
      ...(database.password ? { password: database.password } : {}),
    }),
    logger: adaptLogger(powertools),
    metrics: emfSink,
    ...withNotifier(notifierFor(settings.notifyTopicArn, adaptLogger(powertools))),
    ...(settings.handOver ? { handOver: ecsHandOver(settings.handOver) } : {}),
    ...(settings.maxLambdaBytes === undefined ? {} : { maxLambdaBytes: settings.maxLambdaBytes }),
    ...(settings.taskMaxBytes === undefined ? {} : { taskMaxBytes: settings.taskMaxBytes }),
  };
}

function withNotifier(notifier: Notifier | undefined): { notifier?: Notifier } {
  return notifier ? { notifier } : {};
}

/** The URL as it is (the RDS Proxy endpoint with credentials), or the one the secret describes. */
async function connection(
  database: LambdaSettings['database'],
): Promise<{ url: string; password?: () => Promise<string> }> {
  if ('url' in database) return { url: database.url };
  const { arn, host, sslmode } = database.secret;
  return databaseFromSecret(arn, { host, sslmode });
}

const emfSink: MetricsSink = {
  count(name, value) {
    metrics.addMetric(name, MetricUnit.Count, value);
  },
};

/** Inlet's Logger interface on Powertools' logger, so the engine's lines carry the Lambda context. */
function adaptLogger(logger: PowertoolsLogger): Logger {
  return {
    debug: (message, fields) => logger.debug(message, { ...fields }),
    info: (message, fields) => logger.info(message, { ...fields }),
    warn: (message, fields) => logger.warn(message, { ...fields }),
    error: (message, fields) => logger.error(message, { ...fields }),
    child: (fields) => adaptLogger(logger.createChild({ persistentKeys: fields })),
  };
}
