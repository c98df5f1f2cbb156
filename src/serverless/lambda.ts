/**
 * The AWS Lambda entry point (`npm run build:lambda` bundles it into dist/lambda/index.mjs).
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
import { ConfigError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { type Notifier, notifierFromEnv } from '../observability/notify.js';
import { openStore } from '../storage/open-store.js';
import { s3StoreFromEnv } from '../storage/s3-store.js';
import { type HandlerDeps, handleEvent, type MetricsSink } from './handler.js';

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
    return await handleEvent(event, await deps);
  } finally {
    metrics.publishStoredMetrics();
  }
}

async function buildDeps(): Promise<HandlerDeps> {
  const store = s3StoreFromEnv();
  const configLocation = process.env.INLET_CONFIG ?? 'inlet.config.yaml';
  const text = configLocation.startsWith('s3://')
    ? await readFromStore(store, configLocation)
    : await readFile(configLocation, 'utf8');
  const database = await lambdaDatabase();
  return {
    store,
    config: parseConfig(text, configLocation),
    // One connection per container: Lambda runs one invocation at a time per instance.
    pool: createPool(database.url, {
      max: 1,
      applicationName: 'inlet-lambda',
      ...(database.password ? { password: database.password } : {}),
    }),
    logger: adaptLogger(powertools),
    metrics: emfSink,
    ...withNotifier(notifierFromEnv(adaptLogger(powertools))),
  };
}

function withNotifier(notifier: Notifier | undefined): { notifier?: Notifier } {
  return notifier ? { notifier } : {};
}

/** DATABASE_URL (the RDS Proxy endpoint with credentials), else the secret INLET_DATABASE_SECRET_ARN names. */
async function lambdaDatabase(): Promise<{ url: string; password?: () => Promise<string> }> {
  const url = process.env.DATABASE_URL;
  if (url) return { url };
  const arn = process.env.INLET_DATABASE_SECRET_ARN;
  if (arn) return databaseFromSecret(arn);
  throw new ConfigError(
    'no_database',
    'Neither DATABASE_URL nor INLET_DATABASE_SECRET_ARN is set: the function needs the PostgreSQL (RDS Proxy) ' +
      'connection string or the Secrets Manager secret holding its credentials.',
  );
}

async function readFromStore(store: HandlerDeps['store'], uri: string): Promise<string> {
  const object = openStore(uri, { s3: () => store });
  const { body } = await object.store.get(object.bucket, object.key);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
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
