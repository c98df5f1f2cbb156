import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { InletError } from '../errors.js';
import { type Gateway, startGateway } from '../gateway/server.js';
import type { InletConfig } from '../model/contract.js';
import type { Logger } from '../observability/logger.js';
import { handleEvent } from '../serverless/handler.js';
import { createFileOnce, durableRename, writeSynced } from '../storage/durable.js';
import { S3ObjectStore } from '../storage/s3-store.js';
import { type ChildHandOver, childHandOver } from './child-hand-over.js';
import { listenWithFallback } from './ports.js';

export interface LocalS3 {
  readonly endpoint: string;
  readonly bucket: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  stop(): Promise<void>;
}

const DEFAULT_PORT = 9000;

/** What the environment says about the gateway (read by ./settings.ts). */
export interface LocalS3Settings {
  /** INLET_S3_PORT; undefined: 9000, or a free port when 9000 is taken. */
  readonly port: number | undefined;
  /** INLET_INBOX_BUCKET: the bucket whose new objects are ingested. */
  readonly bucket: string;
  /** INLET_S3_REPLAY_DEAD: deliver the dead letters of earlier runs again. */
  readonly replayDead: boolean;
  /** INLET_S3_ACCESS_KEY_ID and INLET_S3_SECRET_ACCESS_KEY; undefined: a pair generated once. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /**
   * INLET_LAMBDA_MAX_BYTES: objects above it (expansion-aware) are handed to a child `inlet ingest`, as the
   * Lambda function hands them to an ECS task; unset: every object loads in the stack's own process.
   */
  readonly maxLambdaBytes: number | undefined;
  /** The environment the hand-over's child inherits. */
  readonly childEnv: Readonly<Record<string, string | undefined>>;
}

/**
 * The serverless shape on one machine: the S3-compatible gateway, whose every new object in the inbox
 * bucket is handed, as an S3 event record, to the same handler Lambda runs.
 */
export async function startLocalS3(options: {
  readonly dataDir: string;
  readonly config: InletConfig;
  readonly pool: pg.Pool;
  readonly logger: Logger;
  readonly settings: LocalS3Settings;
  /** For the hand-over's child `inlet ingest`: the stack's config file and database. */
  readonly handOver?: {
    readonly configPath: string;
    readonly databaseUrl: string;
    readonly command?: readonly string[];
  };
}): Promise<LocalS3> {
  const { bucket } = options.settings;
  const handOver: { current?: ChildHandOver } = {};
  const credentials = options.settings.credentials ?? (await generatedCredentials(options.dataDir));
  const store: { current?: S3ObjectStore } = {};
  const start = (port: number): Promise<Gateway> =>
    startGateway({
      dataDir: join(options.dataDir, 's3'),
      port,
      credentials,
      buckets: [bucket, 'inlet-snapshots'],
      logger: options.logger.child({ component: 'gateway' }),
      // The handler reads objects back through the gateway, whose port is known only once it listens.
      deferEvents: true,
      // Dead letters of earlier runs (events undelivered for an hour) are delivered again on request.
      replayDead: options.settings.replayDead,
      onObjectCreated: async (record) => {
        if (record.s3.bucket.name !== bucket) return;
        // Resolving would take the event out of the outbox with nothing in the ledger: fail, so it is retried.
        if (store.current === undefined) throw new GatewayNotReadyError();
        await handleEvent(
          { Records: [record] },
          {
            store: store.current,
            config: options.config,
            pool: options.pool,
            logger: options.logger,
            ...(handOver.current && options.settings.maxLambdaBytes !== undefined
              ? { handOver: handOver.current, maxLambdaBytes: options.settings.maxLambdaBytes }
              : {}),
          },
        );
      },
    });
  const gateway = await listenWithFallback(start, {
    port: options.settings.port,
    variable: 'INLET_S3_PORT',
    defaultPort: DEFAULT_PORT,
    what: 'the S3 gateway',
    logger: options.logger,
  });
  store.current = new S3ObjectStore({
    endpoint: gateway.endpoint,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
  });
  if (options.handOver !== undefined && options.settings.maxLambdaBytes !== undefined) {
    handOver.current = childHandOver({
      ...options.handOver,
      s3: { endpoint: gateway.endpoint, credentials },
      env: options.settings.childEnv,
      pool: options.pool,
      logger: options.logger.child({ component: 'hand-over' }),
    });
  }
  gateway.deliverEvents();
  return {
    endpoint: gateway.endpoint,
    bucket,
    credentials,
    stop: async () => {
      await gateway.close();
      await handOver.current?.settled();
    },
  };
}

class GatewayNotReadyError extends InletError {
  constructor() {
    super(
      'gateway_not_ready',
      'The local S3 gateway delivered an event before its object store was set up; the event stays in the ' +
        'outbox and is retried. If this repeats, restart `inlet dev` and report it.',
    );
  }
}

/** A pair generated on the first start and kept in the data directory, so clients keep working. */
async function generatedCredentials(
  dataDir: string,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const file = join(dataDir, 's3-credentials.json');
  const stored = async () =>
    JSON.parse(await readFile(file, 'utf8')) as { accessKeyId: string; secretAccessKey: string };
  try {
    return await stored();
  } catch {
    // Missing, or damaged: a new pair below.
  }
  const generated = {
    accessKeyId: `INLET${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  const text = `${JSON.stringify(generated, null, 2)}\n`;
  await mkdir(dataDir, { recursive: true });
  // Whole and once: a start killed while writing it, or two starting together, keep one pair.
  if (await createFileOnce(file, text, 0o600)) return generated;
  try {
    return await stored();
  } catch {
    // A damaged file (an earlier version's cut write) is replaced whole.
    const replacement = `${file}.${process.pid}.new`;
    await rm(replacement, { force: true });
    await writeSynced(replacement, text, 0o600);
    await durableRename(replacement, file);
    return generated;
  }
}
