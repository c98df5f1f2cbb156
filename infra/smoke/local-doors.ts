/**
 * The doors of the local stack (`npm start`, i.e. `inlet dev`): the S3 gateway and the upload service,
 * found the way `inlet dev` finds them: INLET_HOST, INLET_PORT (8080), INLET_S3_PORT (9000),
 * INLET_INBOX_BUCKET (inlet-inbox), the API token from INLET_API_TOKEN or <INLET_DATA_DIR>/api-token and
 * the gateway's keys from INLET_S3_ACCESS_KEY_ID/INLET_S3_SECRET_ACCESS_KEY or
 * <INLET_DATA_DIR>/s3-credentials.json. Both files are written by `inlet dev` on its first start.
 * The status API is the upload service's own: GET /v1/ingestions/{id}, and for an S3 object the recent
 * ingestions, searched for its ledger identity.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { encodeKeyPath } from '../../src/storage/uri-encoding.js';
import { absentDoor, type Door, type DoorId, type LedgerRow, notDeployed, SmokeError } from './door.js';
import { expectJson, request } from './http.js';

export interface LocalStack {
  /** The upload service, e.g. http://127.0.0.1:8080. */
  readonly apiUrl: string;
  readonly token: string;
  /** The S3 gateway, e.g. http://127.0.0.1:9000. */
  readonly s3Endpoint: string;
  readonly bucket: string;
  readonly s3Credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** How many recent ingestions are searched for an S3 object's row. */
const RECENT = 200;

export async function findLocalStack(env: NodeJS.ProcessEnv = process.env): Promise<LocalStack> {
  const dataDir = env.INLET_DATA_DIR || '.inlet';
  const listening = env.INLET_HOST?.trim() || '127.0.0.1';
  // A service listening on every interface is reached on loopback.
  const host = listening === '0.0.0.0' || listening === '::' ? '127.0.0.1' : listening;
  const token =
    env.INLET_API_TOKEN?.trim() || (await readLocal(join(dataDir, 'api-token'), 'the API token')).trim();
  const s3Credentials =
    env.INLET_S3_ACCESS_KEY_ID && env.INLET_S3_SECRET_ACCESS_KEY
      ? { accessKeyId: env.INLET_S3_ACCESS_KEY_ID, secretAccessKey: env.INLET_S3_SECRET_ACCESS_KEY }
      : (JSON.parse(await readLocal(join(dataDir, 's3-credentials.json'), "the S3 gateway's keys")) as {
          accessKeyId: string;
          secretAccessKey: string;
        });
  return {
    apiUrl: `http://${host}:${env.INLET_PORT || '8080'}`,
    token,
    s3Endpoint: `http://${host}:${env.INLET_S3_PORT || '9000'}`,
    bucket: env.INLET_INBOX_BUCKET || 'inlet-inbox',
    s3Credentials,
  };
}

async function readLocal(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new SmokeError(
      `${what} is not in ${path}: start the local stack first (npm start), with the same INLET_DATA_DIR.`,
    );
  }
}

export function localDoors(stack: LocalStack): Door[] {
  return [
    s3Door(stack),
    absentDoor(
      'api',
      notDeployed('the local stack has no API Gateway (its presigned POST is tested in unit tests)'),
    ),
    serverDoor(stack),
    absentDoor('sftp', notDeployed('the smoke test does not put over SFTP yet')),
  ];
}

function s3Door(stack: LocalStack): Door {
  const client = new S3Client({
    endpoint: stack.s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: stack.s3Credentials,
  });
  return {
    id: 's3',
    async send(file, signal) {
      try {
        await client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: file.name, Body: file.body }), {
          abortSignal: signal,
        });
      } catch (error) {
        throw new SmokeError(`PutObject to ${stack.s3Endpoint}/${stack.bucket}: ${(error as Error).message}`);
      }
      return { reference: `s3://${stack.bucket}/${encodeKeyPath(file.name)}` };
    },
    async ledgerRow(sent, signal) {
      const page = await expectJson<{ ingestions: LedgerRow[] }>(
        await request(`${stack.apiUrl}/v1/ingestions?limit=${RECENT}`, authorized(stack, signal), 'status'),
        [200],
        'GET /v1/ingestions',
      );
      return page.ingestions.find((row) => row.source === sent.reference);
    },
  };
}

function serverDoor(stack: LocalStack): Door {
  const id: DoorId = 'server';
  return {
    id,
    async send(file, signal) {
      const path = file.name.split('/').map(encodeURIComponent).join('/');
      const accepted = await expectJson<{ ingestionId: string }>(
        await request(
          `${stack.apiUrl}/v1/files/${path}`,
          { ...authorized(stack, signal), method: 'PUT', body: file.body },
          'upload',
        ),
        [202],
        `PUT /v1/files/${path}`,
      );
      return { reference: accepted.ingestionId };
    },
    async ledgerRow(sent, signal) {
      const response = await request(
        `${stack.apiUrl}/v1/ingestions/${sent.reference}`,
        authorized(stack, signal),
        'status',
      );
      return expectJson<LedgerRow>(response, [200], `GET /v1/ingestions/${sent.reference}`);
    },
  };
}

function authorized(stack: LocalStack, signal: AbortSignal): RequestInit & { signal: AbortSignal } {
  return { headers: { authorization: `Bearer ${stack.token}` }, signal };
}
