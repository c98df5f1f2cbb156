/** API Gateway proxy responses: JSON bodies, the same error shape as the server's API. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { type HttpErrorCode, httpStatusOfCode } from '../../src/error-codes/index.js';

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/** An error answer: the status is the one the catalogue gives the code (src/error-codes/), as in the server's API. */
export function problem(code: HttpErrorCode, message: string): APIGatewayProxyResult {
  return json(httpStatusOfCode(code) ?? 500, { error: { code, message } });
}
