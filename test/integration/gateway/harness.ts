import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type Gateway, type GatewayOptions, startGateway } from '../../../src/gateway/server.js';

export const credentials = { accessKeyId: 'inlet-test', secretAccessKey: 'inlet-test-secret' };

export interface TestGateway {
  gateway: Gateway;
  client: S3Client;
  dataDir: string;
  /** A client with the given credentials (e.g. a wrong secret). */
  clientWith(creds: { accessKeyId: string; secretAccessKey: string }): S3Client;
  stop(): Promise<void>;
}

export async function makeDataDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'inlet-gateway-'));
}

export async function startTestGateway(options: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  const dataDir = options.dataDir ?? (await makeDataDir());
  const gateway = await startGateway({ credentials, ...options, dataDir });
  const clientWith = (creds: { accessKeyId: string; secretAccessKey: string }) =>
    new S3Client({
      endpoint: gateway.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: creds,
    });
  const client = clientWith(credentials);
  return {
    gateway,
    client,
    dataDir,
    clientWith,
    async stop() {
      client.destroy();
      await gateway.close();
    },
  };
}
