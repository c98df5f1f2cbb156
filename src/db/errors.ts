import type { ErrorCode } from '../error-codes/index.js';
import { DatabaseError } from '../errors.js';

/** Node socket errors that mean the connection was never made or was lost, not that the work was wrong. */
const RETRYABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Messages pg raises without a code when the socket closes or a connect attempt times out. */
const RETRYABLE_MESSAGES = [
  /^Connection terminated unexpectedly$/,
  /^Connection terminated$/,
  /^Connection terminated due to connection timeout$/,
  /^timeout expired$/,
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
];

/** SQLSTATE classes start with a digit or F, H, P, X; this keeps Node codes such as EPIPE out. */
const SQLSTATE_PATTERN = /^[0-9FHPX][0-9A-Z]{4}$/;

interface ErrorFields {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
  hint?: unknown;
  address?: unknown;
  port?: unknown;
  errors?: unknown;
  hostname?: unknown;
}

/** The SQLSTATE of a pg server error, or undefined for anything else (socket errors have codes like ECONNREFUSED). */
export function sqlStateOf(err: unknown): string | undefined {
  const code = fields(err).code;
  return typeof code === 'string' && SQLSTATE_PATTERN.test(code) ? code : undefined;
}

/** True when trying the same work again (on a new connection) can succeed. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof DatabaseError) return err.retryable;
  return classify(err).retryable;
}

/**
 * Wraps any error raised while talking to PostgreSQL in a DatabaseError whose message says what
 * happened, during what (`context`, e.g. "applying migrations"), and what to do. Passwords never
 * appear: URLs in driver messages are redacted.
 */
export function toDatabaseError(err: unknown, context: string): DatabaseError {
  if (err instanceof DatabaseError) return err;
  const { code, retryable, message } = classify(err);
  const sqlState = sqlStateOf(err);
  return new DatabaseError(code, redactSecrets(`${message} (while ${context})`), {
    cause: err,
    retryable,
    ...(sqlState === undefined ? {} : { sqlState }),
  });
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`; also masks `password=...` pairs. */
export function redactSecrets(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@\s]*@/gi, '$1***@')
    .replace(/(\bpassword\s*=\s*)('[^']*'|\S+)/gi, '$1***');
}

/** Masks the password of a connection URL for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return redactSecrets(url);
  }
}

interface Classification {
  code: ErrorCode;
  retryable: boolean;
  message: string;
}

const WHAT_TO_DO_UNREACHABLE = 'Is it running? Set DATABASE_URL or --database-url.';

function classify(err: unknown): Classification {
  const f = fields(err);
  const text = typeof f.message === 'string' ? f.message : String(err);
  const sqlState = sqlStateOf(err);

  if (sqlState !== undefined) return classifySqlState(sqlState, text, f);

  const socketCode = socketCodeOf(err);
  if (socketCode !== undefined) {
    const where = addressOf(err);
    if (RETRYABLE_SOCKET_CODES.has(socketCode)) {
      const verb =
        socketCode === 'ECONNREFUSED' ? 'Cannot reach' : 'Lost or could not open the connection to';
      return {
        code: 'db_unreachable',
        retryable: true,
        message: `${verb} PostgreSQL${where ? ` at ${where}` : ''} (${socketCode}). ${WHAT_TO_DO_UNREACHABLE}`,
      };
    }
    if (socketCode === 'ENOTFOUND') {
      return {
        code: 'db_unreachable',
        retryable: false,
        message: `Cannot resolve the PostgreSQL host${where ? ` ${where}` : ''} (ENOTFOUND). Check the host in DATABASE_URL or --database-url.`,
      };
    }
  }

  if (RETRYABLE_MESSAGES.some((pattern) => pattern.test(text))) {
    return {
      code: 'db_connection_lost',
      retryable: true,
      message: `The connection to PostgreSQL was lost or could not be opened in time: ${text}. ${WHAT_TO_DO_UNREACHABLE}`,
    };
  }

  return { code: 'db_error', retryable: false, message: `PostgreSQL client error: ${text}` };
}

/**
 * Retryable: class 08 and the states after which the same work can succeed if tried again (the
 * server is going away or coming up, is full, or chose this transaction as a conflict's victim).
 */
function classifySqlState(sqlState: string, text: string, f: ErrorFields): Classification {
  const extra = describeServerExtras(f);
  const server = `${text} [SQLSTATE ${sqlState}]${extra}`;
  if (sqlState.startsWith('08')) {
    return {
      code: 'db_connection_lost',
      retryable: true,
      message: `The connection to PostgreSQL failed: ${server}. ${WHAT_TO_DO_UNREACHABLE}`,
    };
  }
  switch (sqlState) {
    case '57P01':
    case '57P02':
      return {
        code: 'db_shutdown',
        retryable: true,
        message: `PostgreSQL shut down or restarted and ended the session: ${server}. Run again once it is back.`,
      };
    case '57P03':
      return {
        code: 'db_starting',
        retryable: true,
        message: `PostgreSQL is not accepting connections yet: ${server}. Run again in a moment.`,
      };
    case '53300':
      return {
        code: 'db_too_many_connections',
        retryable: true,
        message: `PostgreSQL has no free connection slots: ${server}. Lower the concurrency, or raise max_connections.`,
      };
    case '40001':
    case '40P01':
      return {
        code: 'db_conflict',
        retryable: true,
        message: `PostgreSQL aborted the transaction because of a concurrent one: ${server}. Trying again usually succeeds.`,
      };
    case '28P01':
    case '28000':
      return {
        code: 'db_auth',
        retryable: false,
        message: `PostgreSQL refused the login: ${server}. Check the user and password in DATABASE_URL or --database-url.`,
      };
    case '3D000':
      return {
        code: 'db_not_found',
        retryable: false,
        message: `${server}. Create the database, or fix its name in DATABASE_URL or --database-url.`,
      };
    case '42501':
      return {
        code: 'db_permission',
        retryable: false,
        message: `PostgreSQL denied permission: ${server}. Grant the needed privilege to the user in DATABASE_URL.`,
      };
    default:
      return { code: 'db_query', retryable: false, message: `PostgreSQL refused the statement: ${server}` };
  }
}

function describeServerExtras(f: ErrorFields): string {
  const parts: string[] = [];
  if (typeof f.detail === 'string' && f.detail !== '') parts.push(`Detail: ${f.detail}`);
  if (typeof f.hint === 'string' && f.hint !== '') parts.push(`Hint: ${f.hint}`);
  return parts.length === 0 ? '' : ` ${parts.join(' ')}`;
}

function fields(err: unknown): ErrorFields {
  return typeof err === 'object' && err !== null ? (err as ErrorFields) : {};
}

/**
 * Node sets `code` on socket errors; when it tries several addresses (localhost → ::1 and 127.0.0.1)
 * the failures arrive as an AggregateError whose members carry the details.
 */
function socketCodeOf(err: unknown): string | undefined {
  const f = fields(err);
  if (typeof f.code === 'string' && /^E[A-Z_]+$/.test(f.code)) return f.code;
  if (Array.isArray(f.errors)) {
    for (const inner of f.errors) {
      const code = socketCodeOf(inner);
      if (code !== undefined) return code;
    }
  }
  return undefined;
}

function addressOf(err: unknown): string | undefined {
  const f = fields(err);
  if (typeof f.address === 'string') {
    const host = f.address.includes(':') ? `[${f.address}]` : f.address;
    return typeof f.port === 'number' ? `${host}:${f.port}` : host;
  }
  if (Array.isArray(f.errors)) {
    const all = f.errors.map(addressOf).filter((a): a is string => a !== undefined);
    if (all.length > 0) return all.join(', ');
  }
  // getaddrinfo errors carry the host name instead of an address.
  return typeof f.hostname === 'string' ? f.hostname : undefined;
}
