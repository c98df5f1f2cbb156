import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { InletConfig } from '../engine/contract.js';
import { ConfigError } from '../errors.js';
import { type Gateway, startGateway } from '../gateway/server.js';
import type { Logger } from '../observability/logger.js';
import { handleEvent } from '../serverless/handler.js';
import { S3ObjectStore } from '../storage/s3-store.js';

export interface LocalS3 {
  readonly endpoint: string;
  readonly bucket: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  stop(): Promise<void>;
}

const DEFAULT_PORT = 9000;

/**
 * The serverless shape on one machine: the S3-compatible gateway on INLET_S3_PORT, whose every new
 * object in the inbox bucket is handed, as an S3 event record, to the same handler Lambda runs.
 */
export async function startLocalS3(options: {
  readonly dataDir: string;
  readonly config: InletConfig;
  readonly pool: pg.Pool;
  readonly logger: Logger;
}): Promise<LocalS3> {
  const credentials = await localCredentials(options.dataDir);
  const bucket = process.env.INLET_INBOX_BUCKET || 'inlet-inbox';
  const store: { current?: S3ObjectStore } = {};
  const start = (port: number): Promise<Gateway> =>
    startGateway({
      dataDir: join(options.dataDir, 's3'),
      port,
      credentials,
      buckets: [bucket, 'inlet-snapshots'],
      logger: options.logger.child({ component: 'gateway' }),
      onObjectCreated: async (record) => {
        if (record.s3.bucket.name !== bucket || store.current === undefined) return;
        await handleEvent(
          { Records: [record] },
          { store: store.current, config: options.config, pool: options.pool, logger: options.logger },
        );
      },
    });
  const gateway = await startOnPort(start, options.logger);
  store.current = new S3ObjectStore({
    endpoint: gateway.endpoint,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
  });
  return {
    endpoint: gateway.endpoint,
    bucket,
    credentials,
    stop: () => gateway.close(),
  };
}

/** INLET_S3_PORT when set (busy is an error); else 9000, or any free port when 9000 is taken. */
async function startOnPort(start: (port: number) => Promise<Gateway>, logger: Logger): Promise<Gateway> {
  const explicit = process.env.INLET_S3_PORT;
  if (explicit !== undefined && explicit !== '') {
    const port = Number(explicit);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ConfigError('invalid_port', `INLET_S3_PORT must be a port number, got "${explicit}".`);
    }
    return start(port).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') throw error;
      throw new ConfigError(
        'port_in_use',
        `Port ${port} (INLET_S3_PORT) is in use: free it or choose another port.`,
      );
    });
  }
  return start(DEFAULT_PORT).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EADDRINUSE') throw error;
    logger.warn(
      `port ${DEFAULT_PORT} is in use; the S3 gateway takes a free port instead (set INLET_S3_PORT to choose)`,
    );
    return start(0);
  });
}

/** INLET_S3_ACCESS_KEY_ID/SECRET when set, else a pair generated once and kept in the data directory. */
async function localCredentials(dataDir: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const { INLET_S3_ACCESS_KEY_ID: accessKeyId, INLET_S3_SECRET_ACCESS_KEY: secretAccessKey } = process.env;
  if (accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey };
  const file = join(dataDir, 's3-credentials.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as { accessKeyId: string; secretAccessKey: string };
  } catch {
    const generated = {
      accessKeyId: `INLET${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64url'),
    };
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600 });
    return generated;
  }
}
