/** HTTP for the smoke test: every request bounded in time, every refusal reported with its body. */
import { SmokeError } from './door.js';

/** No single request may take longer than this, whatever the overall deadline. */
const REQUEST_TIMEOUT_MS = 30_000;

export async function request(
  url: string,
  init: RequestInit & { readonly signal: AbortSignal },
  what: string,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      signal: AbortSignal.any([init.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new SmokeError(`${what}: could not reach ${new URL(url).origin} (${reason})`);
  }
  return response;
}

/** The response's JSON when its status is `expected`, else an error quoting the body. */
export async function expectJson<T>(response: Response, expected: number[], what: string): Promise<T> {
  const text = await response.text();
  if (!expected.includes(response.status)) {
    throw new SmokeError(`${what}: HTTP ${response.status} ${text.slice(0, 300).trim()}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new SmokeError(
      `${what}: HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
    );
  }
}
