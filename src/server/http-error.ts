import { type HttpErrorCode, httpStatusOfCode } from '../error-codes/index.js';
import { InletError } from '../errors.js';

/**
 * An error the upload API answers with `{"error": {"code", "message"}}` and the status the catalogue
 * gives its code (src/error-codes/), so a code is answered with one status wherever it is raised.
 */
export class HttpError extends InletError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: HttpErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.status = httpStatusOfCode(code) ?? 500;
    this.headers = options.headers ?? {};
  }
}

/**
 * The status for an error raised while accepting or answering: the catalogue's status for an Inlet
 * code (a spool that is full is 503, an upload over the limit 413), 500 for anything else unexpected.
 */
export function httpStatusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof InletError) return httpStatusOfCode(error.code) ?? 500;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}
