/**
 * GET /ingestions?key=orders/2026-11.csv → the ingestions of that inbox object, newest first;
 * GET /ingestions/{id} → one ingestion. Read from the ledger through RDS Proxy, shown exactly as the
 * server's API shows them (src/ledger/read.ts).
 * Environment: INLET_INBOX_BUCKET, INLET_DATABASE_SECRET_ARN, INLET_DATABASE_HOST (the proxy).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import pg from 'pg';
import { getIngestion, ingestionView, isIngestionId } from '../../src/ledger/read.js';
import { readDatabaseSecret } from './database-secret.js';
import { json, problem } from './http.js';

const RECENT = 20;
let pool: pg.Pool | undefined;

async function connect(): Promise<pg.Pool> {
  const secretArn = process.env.INLET_DATABASE_SECRET_ARN;
  if (!secretArn) throw new Error('INLET_DATABASE_SECRET_ARN is not set');
  const secret = await readDatabaseSecret(secretArn);
  const created = new pg.Pool({
    host: process.env.INLET_DATABASE_HOST || secret.host,
    port: secret.port,
    user: secret.username,
    password: secret.password,
    database: secret.dbname,
    // The proxy requires TLS; its certificate chains to a public CA, so Node verifies it as is.
    ssl: true,
    max: 1,
    connectionTimeoutMillis: 5000,
    application_name: 'inlet-api',
  });
  created.on('error', () => {});
  return created;
}

async function withPool<T>(run: (pool: pg.Pool) => Promise<T>): Promise<T> {
  pool ??= await connect();
  try {
    return await run(pool);
  } catch (error) {
    // 28P01: the password was rotated since this container read it. Read it again, once.
    if ((error as { code?: string }).code !== '28P01') throw error;
    await pool.end().catch(() => {});
    pool = await connect();
    return run(pool);
  }
}

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const bucket = process.env.INLET_INBOX_BUCKET;
  if (!bucket)
    return problem(
      'misconfigured',
      'INLET_INBOX_BUCKET is not set: the function was deployed without its inbox bucket; deploy the stack again.',
    );
  const id = event.pathParameters?.id;
  if (id !== undefined) {
    if (!isIngestionId(id))
      return problem('invalid_request', `"${id}" is not an ingestion id: expected a UUID`);
    const row = await withPool((db) => getIngestion(db, id));
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
  const ids = await withPool(async (db) => {
    const result = await db.query<{ id: string }>(
      `SELECT id FROM inlet.ingestions WHERE source_uri = $1
        ORDER BY received_at DESC NULLS LAST, id DESC LIMIT ${RECENT}`,
      [`s3://${bucket}/${key}`],
    );
    return result.rows.map((row) => row.id);
  });
  const rows = await withPool((db) => Promise.all(ids.map((one) => getIngestion(db, one))));
  return json(200, {
    key,
    ingestions: rows.flatMap((row) => (row ? [ingestionView(row)] : [])),
  });
}
