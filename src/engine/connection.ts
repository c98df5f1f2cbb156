/**
 * A pooled connection for one unit of work (a file's transaction, or a batch's). A connection lost while
 * checked out arrives as an 'error' event: caught here so that it fails this attempt (which the caller's
 * retry repeats) instead of crashing the process. On a throw, whatever transaction the work left open is
 * rolled back, and a connection that broke (the event, a failed ROLLBACK, a retryable error) is destroyed
 * instead of going back to the pool.
 */
import type { Pool, PoolClient } from 'pg';
import { isRetryable, toDatabaseError } from '../db/errors.js';

export async function withConnection<T>(
  pool: Pool,
  /** `broken()` says whether the connection has already failed, which no retry on it can mend. */
  work: (client: PoolClient, broken: () => boolean) => Promise<T>,
): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw toDatabaseError(error, 'connecting to PostgreSQL');
  }
  let broken: Error | undefined;
  const onConnectionError = (error: Error) => {
    broken ??= error;
  };
  client.on('error', onConnectionError);
  try {
    return await work(client, () => broken !== undefined);
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken ??= rollbackError;
    });
    if (isRetryable(error)) broken ??= error as Error;
    throw error;
  } finally {
    client.off('error', onConnectionError);
    client.release(broken);
  }
}
