/**
 * The object key an upload through the API gets: `clients/<caller>/<name>`, the name a client asks for
 * under a prefix bound to the IAM principal that asked, so one client can neither overwrite nor pose as
 * another's files. Pipelines still match the name alone (src/config/client-uploads.ts: keys under clients/
 * are routed on the rest of the key). A name is refused when it could not be an honest S3 key.
 */
import { CLIENT_UPLOADS_PREFIX } from '../../src/config/client-uploads.js';
import { InletError } from '../../src/errors.js';

/** The name cannot be an upload's key: answered 400 `invalid_name`, as the upload API answers a bad name. */
export class InvalidNameError extends InletError {
  constructor(message: string) {
    super('invalid_name', message);
  }
}

const RESERVED_PREFIXES = ['processed/', 'rejected/'];
const MAX_KEY_BYTES = 1024;

/**
 * The caller's name from the ARN API Gateway's IAM authorizer gives: a role's name (not the session's,
 * which changes with every set of credentials), a user's or a federated user's name; the account root
 * is `root`. Undefined for anything else.
 */
export function callerName(userArn: string | null | undefined): string | undefined {
  const resource = /^arn:aws[a-z-]*:(?:sts|iam)::\d{12}:(.+)$/.exec(userArn ?? '')?.[1];
  if (resource === undefined) return undefined;
  if (resource === 'root') return 'root';
  const [kind, ...path] = resource.split('/');
  const name =
    kind === 'assumed-role'
      ? path[0]
      : kind === 'user' || kind === 'federated-user'
        ? path.at(-1)
        : undefined;
  // A name of dots alone would be a `.` or `..` segment of the key.
  return name !== undefined && /^[\w+=,.@-]{1,128}$/.test(name) && !/^\.+$/.test(name) ? name : undefined;
}

export function uploadKey(name: unknown, caller: string): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new InvalidNameError('name must be a non-empty string');
  if (/[\u0000-\u001f\u007f\\]/.test(name))
    throw new InvalidNameError('name must not contain control characters or backslashes');
  if (name.startsWith('/')) throw new InvalidNameError('name must not start with "/"');
  if (name.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new InvalidNameError('name must not contain empty, "." or ".." path segments');
  }
  if (RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix))) {
    throw new InvalidNameError(`names under ${RESERVED_PREFIXES.join(' and ')} are never ingested`);
  }
  const key = `${CLIENT_UPLOADS_PREFIX}${caller}/${name}`;
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new InvalidNameError(
      `name must be at most ${MAX_KEY_BYTES - Buffer.byteLength(key.slice(0, -name.length), 'utf8')} bytes`,
    );
  }
  return key;
}
