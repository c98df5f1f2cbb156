/** API Gateway proxy responses: JSON bodies, the same error shape as the server's API. */
import type { APIGatewayProxyResult } from 'aws-lambda';

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

export function problem(statusCode: number, code: string, message: string): APIGatewayProxyResult {
  return json(statusCode, { error: { code, message } });
}
