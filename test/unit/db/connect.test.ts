/**
 * createPool's `signal`: a connection still being made is cut when it is aborted, where `pool.end()` alone
 * waits for it to be made or to time out.
 */
import { describe, expect, it } from 'vitest';
import { createPool } from '../../../src/db/connect.js';
import { silentServer } from '../../harness/silent-server.js';

describe('createPool with a signal', () => {
  it('cuts a connection the server never answers when aborted, long before the connection timeout', async () => {
    const server = await silentServer();
    const abort = new AbortController();
    const pool = createPool(server.url, { signal: abort.signal, connectionTimeoutMillis: 60_000 });
    try {
      const connecting = pool.connect();
      await server.accepted();
      abort.abort();
      await expect(connecting).rejects.toThrow();
      await server.closedByClient();
      await pool.end();
    } finally {
      await server.close();
    }
  });

  it('refuses to connect once aborted, without opening a socket', async () => {
    const server = await silentServer();
    const abort = new AbortController();
    abort.abort();
    const pool = createPool(server.url, { signal: abort.signal, connectionTimeoutMillis: 60_000 });
    try {
      await expect(pool.connect()).rejects.toThrow();
      await pool.end();
    } finally {
      await server.close();
    }
  });
});
