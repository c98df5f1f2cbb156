/**
 * POST /uploads {"name": "orders/2026-11.csv"} → a presigned POST for `clients/<caller>/orders/2026-11.csv`
 * in the inbox bucket (upload-key.ts): the client sends the file as multipart/form-data to `url`, with
 * `fields` first and the file last, at most `maxBytes` long. The upload then triggers the normal S3 →
 * EventBridge → SQS → Lambda ingestion; GET /ingestions?key= follows it.
 * Environment: INLET_INBOX_BUCKET, INLET_UPLOAD_URL_SECONDS (default 900), INLET_UPLOAD_MAX_BYTES.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { credentialsFromEnv, regionFromEnv } from './aws-signing.js';
import { json, problem } from './http.js';
import { presignPost } from './presign-post.js';
import { callerName, InvalidNameError, uploadKey } from './upload-key.js';

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const bucket = process.env.INLET_INBOX_BUCKET;
  const maxBytes = Number(process.env.INLET_UPLOAD_MAX_BYTES);
  if (!bucket || !Number.isInteger(maxBytes) || maxBytes < 1)
    return problem(
      'misconfigured',
      'INLET_INBOX_BUCKET or INLET_UPLOAD_MAX_BYTES is not set: the function was deployed without them; deploy the stack again.',
    );
  const expiresIn = Number(process.env.INLET_UPLOAD_URL_SECONDS ?? '900');
  const requestedBy = event.requestContext?.identity?.userArn;
  const caller = callerName(requestedBy);
  if (requestedBy === undefined || requestedBy === null || caller === undefined) {
    return problem(
      'unknown_caller',
      'the request names no IAM role or user to bind the upload to: sign it with such credentials (SigV4)',
    );
  }
  let key: string;
  try {
    const body = JSON.parse(event.body ?? '') as { name?: unknown };
    key = uploadKey(body.name, caller);
  } catch (error) {
    if (error instanceof InvalidNameError) return problem('invalid_name', error.message);
    return problem('invalid_request', 'the body must be JSON: {"name": "..."}');
  }
  const now = new Date();
  const { url, fields } = await presignPost({
    bucket,
    key,
    region: regionFromEnv(),
    credentials: credentialsFromEnv(),
    expiresInSeconds: expiresIn,
    maxBytes,
    metadata: { 'inlet-requested-by': requestedBy },
    now,
  });
  return json(201, {
    key,
    method: 'POST',
    url,
    fields,
    maxBytes,
    expiresAt: new Date(now.getTime() + expiresIn * 1000).toISOString(),
    status: `/ingestions?key=${encodeURIComponent(key)}`,
  });
}
