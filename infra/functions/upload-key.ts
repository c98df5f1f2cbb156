/**
 * The object key an upload gets from the name a client asks for: the name itself (pipelines `match` on
 * it), refused when it could not be an honest S3 key or would land where Inlet never ingests.
 */
import { InletError } from '../../src/errors.js';

/** The name cannot be an upload's key: answered 400 `invalid_name`, as the upload API answers a bad name. */
export class InvalidNameError extends InletError {
  constructor(message: string) {
    super('invalid_name', message);
  }
}

const RESERVED_PREFIXES = ['processed/', 'rejected/'];
const MAX_KEY_BYTES = 1024;

export function uploadKey(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new InvalidNameError('name must be a non-empty string');
  if (Buffer.byteLength(name, 'utf8') > MAX_KEY_BYTES) {
    throw new InvalidNameError(`name must be at most ${MAX_KEY_BYTES} bytes`);
  }
  if (/[\u0000-\u001f\u007f\\]/.test(name))
    throw new InvalidNameError('name must not contain control characters or backslashes');
  if (name.startsWith('/')) throw new InvalidNameError('name must not start with "/"');
  if (name.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new InvalidNameError('name must not contain empty, "." or ".." path segments');
  }
  if (RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix))) {
    throw new InvalidNameError(`names under ${RESERVED_PREFIXES.join(' and ')} are never ingested`);
  }
  return name;
}
