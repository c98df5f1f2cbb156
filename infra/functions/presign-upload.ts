/**
 * POST /uploads {"name": "orders/2026-11.csv"} → a presigned PUT URL for that key in the inbox bucket.
 * The PUT then triggers the normal S3 → SQS → Lambda ingestion; GET /ingestions?key= follows it.
 * Environment: INLET_INBOX_BUCKET, INLET_UPLOAD_URL_SECONDS (default 900).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { credentialsFromEnv, regionFromEnv } from './aws-signing.js';
import { json, problem } from './http.js';
import { presignPut } from './presign.js';
import { InvalidNameError, uploadKey } from './upload-key.js';

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const bucket = process.env.INLET_INBOX_BUCKET;
  if (!bucket)
    return problem(
      'misconfigured',
      'INLET_INBOX_BUCKET is not set: the function was deployed without its inbox bucket; deploy the stack again.',
    );
  const expiresIn = Number(process.env.INLET_UPLOAD_URL_SECONDS ?? '900');
  let key: string;
  try {
    const body = JSON.parse(event.body ?? '') as { name?: unknown };
    key = uploadKey(body.name);
  } catch (error) {
    if (error instanceof InvalidNameError) return problem('invalid_name', error.message);
    return problem('invalid_request', 'the body must be JSON: {"name": "..."}');
  }
  const now = new Date();
  const requestedBy = event.requestContext?.identity?.userArn ?? event.requestContext?.identity?.caller;
  const url = await presignPut({
    bucket,
    key,
    region: regionFromEnv(),
    credentials: credentialsFromEnv(),
    expiresInSeconds: expiresIn,
    ...(requestedBy ? { metadata: { 'inlet-requested-by': requestedBy } } : {}),
    now,
  });
  return json(201, {
    key,
    method: 'PUT',
    url,
    expiresAt: new Date(now.getTime() + expiresIn * 1000).toISOString(),
    status: `/ingestions?key=${encodeURIComponent(key)}`,
  });
}
