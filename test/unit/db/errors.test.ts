import { describe, expect, it } from 'vitest';
import { isRetryable, redactSecrets, redactUrl, toDatabaseError } from '../../../src/db/errors.js';
import { DatabaseError } from '../../../src/errors.js';

/** Shaped like the errors pg raises for a server ErrorResponse (pg-protocol's DatabaseError). */
function serverError(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { severity: 'ERROR', code, ...extra });
}

function socketError(code: string, address = '127.0.0.1', port = 5432): Error {
  return Object.assign(new Error(`connect ${code} ${address}:${port}`), {
    code,
    errno: -111,
    syscall: 'connect',
    address,
    port,
  });
}

describe('toDatabaseError', () => {
  it('says where PostgreSQL could not be reached and what to do', () => {
    const err = toDatabaseError(socketError('ECONNREFUSED'), 'connecting');
    expect(err).toBeInstanceOf(DatabaseError);
    expect(err.retryable).toBe(true);
    expect(err.code).toBe('db_unreachable');
    expect(err.message).toContain('Cannot reach PostgreSQL at 127.0.0.1:5432 (ECONNREFUSED)');
    expect(err.message).toContain('Is it running? Set DATABASE_URL or --database-url.');
    expect(err.message).toContain('connecting');
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('reads the addresses of an AggregateError (localhost tried over IPv6 and IPv4)', () => {
    const aggregate = Object.assign(
      new AggregateError([socketError('ECONNREFUSED', '::1'), socketError('ECONNREFUSED', '127.0.0.1')], ''),
      { code: 'ECONNREFUSED' },
    );
    const err = toDatabaseError(aggregate, 'connecting');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('[::1]:5432, 127.0.0.1:5432');
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'EPIPE'])('%s is retryable', (code) => {
    expect(toDatabaseError(socketError(code), 'loading').retryable).toBe(true);
    expect(isRetryable(socketError(code))).toBe(true);
  });

  it.each(['Connection terminated unexpectedly', 'Connection terminated'])('"%s" is retryable', (message) => {
    const err = toDatabaseError(new Error(message), 'loading');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(message);
  });

  it.each([
    ['08006', 'db_connection_lost'],
    ['08001', 'db_connection_lost'],
    ['57P01', 'db_shutdown'],
    ['57P02', 'db_shutdown'],
    ['57P03', 'db_starting'],
    ['53300', 'db_too_many_connections'],
    ['40001', 'db_conflict'],
    ['40P01', 'db_conflict'],
  ])('SQLSTATE %s is retryable (%s)', (sqlState, code) => {
    const err = toDatabaseError(serverError(sqlState, 'boom'), 'loading');
    expect(err.retryable).toBe(true);
    expect(err.code).toBe(code);
    expect(err.sqlState).toBe(sqlState);
    expect(err.message).toContain(`SQLSTATE ${sqlState}`);
  });

  it.each([
    ['23505', 'db_query'],
    ['42P01', 'db_query'],
    ['22P02', 'db_query'],
    ['28P01', 'db_auth'],
    ['3D000', 'db_not_found'],
    ['42501', 'db_permission'],
  ])('SQLSTATE %s is not retryable (%s)', (sqlState, code) => {
    const err = toDatabaseError(serverError(sqlState, 'nope'), 'loading');
    expect(err.retryable).toBe(false);
    expect(err.code).toBe(code);
    expect(isRetryable(serverError(sqlState, 'nope'))).toBe(false);
  });

  it('keeps the server detail and hint', () => {
    const err = toDatabaseError(
      serverError('23505', 'duplicate key value violates unique constraint "k"', {
        detail: 'Key (id)=(1) already exists.',
        hint: 'Use another id.',
      }),
      'inserting into public.orders',
    );
    expect(err.message).toBe(
      'PostgreSQL refused the statement: duplicate key value violates unique constraint "k" [SQLSTATE 23505] ' +
        'Detail: Key (id)=(1) already exists. Hint: Use another id. (while inserting into public.orders)',
    );
  });

  it('does not mistake a Node code such as EPIPE for a SQLSTATE', () => {
    expect(toDatabaseError(socketError('EPIPE'), 'x').sqlState).toBeUndefined();
  });

  it('treats unknown errors and non-errors as not retryable', () => {
    expect(toDatabaseError(new Error('something odd'), 'x').retryable).toBe(false);
    expect(toDatabaseError('a string', 'x').message).toContain('a string');
    expect(isRetryable(undefined)).toBe(false);
  });

  it('returns a DatabaseError unchanged', () => {
    const original = new DatabaseError('db_conflict', 'already wrapped', { retryable: true });
    expect(toDatabaseError(original, 'x')).toBe(original);
    expect(isRetryable(original)).toBe(true);
  });

  it('never prints a password found in the driver message', () => {
    const err = toDatabaseError(
      new Error('invalid connection string postgres://inlet:s3cret@db.example:5432/app'),
      'connecting',
    );
    expect(err.message).not.toContain('s3cret');
    expect(err.message).toContain('postgres://inlet:***@db.example:5432/app');
  });
});

describe('redaction', () => {
  it('masks URL passwords and password= pairs', () => {
    expect(redactUrl('postgres://u:p%40ss@h:5/db')).toBe('postgres://u:***@h:5/db');
    expect(redactUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(redactSecrets("host=h password='a b' user=u")).toBe('host=h password=*** user=u');
    expect(redactSecrets('password=abc')).toBe('password=***');
  });
});
