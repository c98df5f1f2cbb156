/**
 * The upload API with the dashboard's token. EventSource cannot send an Authorization header, so the
 * page polls with fetch instead of listening to server-sent events.
 */

/** The token was refused (missing, unknown, revoked, expired): the page asks for another. */
export class Unauthorized extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'Unauthorized';
    this.code = code;
  }
}

/**
 * One ingestion as GET /v1/ingestions and GET /v1/ingestions/{id} answer it.
 * @typedef {{
 *   id: string, pipeline: string, source: string, status: string, rowsLoaded: number, rowsRejected: number,
 *   bytes: number | null, sha256: string | null, duplicateOf: string | null, receivedAt: string | null,
 *   startedAt: string | null, finishedAt: string | null, durationMs: number | null, lagMs: number | null,
 *   error?: { code: string, message: string },
 *   contractChange?: { version: number, columns: { name: string, type: string, source: string }[], ddl: string },
 *   handOver?: { ranOn: string, from?: string, reason?: string, attempt?: number, runId?: string, at?: string }
 * }} Ingestion
 */

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * @param {() => string | null} token
 */
export function createApi(token) {
  /**
   * @param {string} path
   * @param {{ accept?: string, signal?: AbortSignal, token?: string }} [options]
   * @returns {Promise<Response>}
   */
  async function request(path, options = {}) {
    const bearer = options.token ?? token();
    const response = await fetch(path, {
      headers: {
        accept: options.accept ?? 'application/json',
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      cache: 'no-store',
      credentials: 'omit',
      signal: options.signal,
    });
    if (response.ok) return response;
    let code = 'http_error';
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      code = body?.error?.code ?? code;
      message = body?.error?.message ?? message;
    } catch {
      // Not the API's JSON error shape (a proxy's page): keep the status line.
    }
    if (response.status === 401) throw new Unauthorized(code, message);
    throw new ApiError(response.status, code, message);
  }

  return {
    request,
    /** @param {string} path @param {{ signal?: AbortSignal, token?: string }} [options] */
    async json(path, options) {
      return (await request(path, options)).json();
    },
  };
}
