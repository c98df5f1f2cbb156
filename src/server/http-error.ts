import type { ErrorCode } from '../error-codes/index.js';
import { InletError } from '../errors.js';
import { SpoolError } from './spool.js';

/** An error the upload API answers with its own status: `{"error": {"code", "message"}}`. */
export class HttpError extends InletError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.status = status;
    this.headers = options.headers ?? {};
  }
}

/** The status for an error raised while accepting or answering; anything unexpected is a 500. */
export function httpStatusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof SpoolError) {
    switch (error.code) {
      case 'too_large':
        return 413;
      case 'spool_full':
        return 503;
      case 'body_failed':
        return 400;
      default:
        return 500;
    }
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}
