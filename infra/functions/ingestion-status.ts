/**
 * GET /ingestions?key=orders/2026-11.csv → the ingestions of that inbox object, newest first;
 * GET /ingestions/{id} → one ingestion. Read from the ledger through RDS Proxy as the read-only status
 * role, shown exactly as the server's API shows them (src/ledger/read.ts).
 * Environment: INLET_INBOX_BUCKET, INLET_DATABASE_SECRET_ARN (the status role's secret),
 * INLET_DATABASE_HOST (the proxy). The connection is the one every Inlet process makes from a secret
 * (src/db/secret.ts): TLS verified, the password read again a minute after it last was, so a rotation
 * needs no new container.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type pg from 'pg';
import { createPool } from '../../src/db/connect.js';
import { databaseFromSecret } from '../../src/db/secret.js';
import { getIngestion, type IngestionView, ingestionView, isIngestionId } from '../../src/ledger/read.js';
import { encodeKeyPath } from '../../src/storage/uri-encoding.js';
import { json, problem } from './http.js';

const RECENT = 20;
let pool: Promise<pg.Pool> | undefined;

/** The status role's secret, and where to connect: RDS Proxy, not the instance the secret names. */
export function statusDatabase(env: NodeJS.ProcessEnv): { secretArn: string; host: string } {
  const secretArn = env.INLET_DATABASE_SECRET_ARN?.trim();
  const host = env.INLET_DATABASE_HOST?.trim();
  if (!secretArn || !host) throw new Error('INLET_DATABASE_SECRET_ARN or INLET_DATABASE_HOST is not set');
  return { secretArn, host };
}

async function connect(): Promise<pg.Pool> {
  const { secretArn, host } = statusDatabase(process.env);
  const database = await databaseFromSecret(secretArn, { host });
  return createPool(database.url, {
    max: 1,
    connectionTimeoutMillis: 5000,
    applicationName: 'inlet-api',
    password: database.password,
  });
}

/** The ingestions of one inbox object, newest first; its ledger identity is s3://bucket/ and the key encoded. */
export async function ingestionsOfObject(db: pg.Pool, bucket: string, key: string): Promise<IngestionView[]> {
  const result = await db.query<{ id: string }>(
    `SELECT id FROM inlet.ingestions WHERE source_uri = $1
      ORDER BY received_at DESC NULLS LAST, id DESC LIMIT ${RECENT}`,
    [`s3://${bucket}/${encodeKeyPath(key)}`],
  );
  const rows = await Promise.all(result.rows.map((row) => getIngestion(db, row.id)));
  return rows.flatMap((row) => (row ? [ingestionView(row)] : []));
}

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const bucket = process.env.INLET_INBOX_BUCKET;
  if (!bucket)
    return problem(
      'misconfigured',
      'INLET_INBOX_BUCKET is not set: the function was deployed without its inbox bucket; deploy the stack again.',
    );
  pool ??= connect().catch((error: unknown) => {
    pool = undefined;
    throw error;
  });
  const db = await pool;
  const id = event.pathParameters?.id;
  if (id !== undefined) {
    if (!isIngestionId(id))
      return problem('invalid_request', `"${id}" is not an ingestion id: expected a UUID`);
    const row = await getIngestion(db, id);
    return row
      ? json(200, ingestionView(row))
      : problem('not_found', `no ingestion ${id}; GET /ingestions?key= finds one by its object key`);
  }
  const key = event.queryStringParameters?.key;
  if (!key)
    return problem(
      'invalid_request',
      'the key query parameter is required: GET /ingestions?key=<object key>',
    );
  return json(200, { key, ingestions: await ingestionsOfObject(db, bucket, key) });
}
