/**
 * lazyDatabase's warm(): a command given a URL starts connecting before its first file needs the database,
 * and a failure to connect surfaces where the database is asked for, as it did before, or not at all when no
 * file ever asks (no unhandled rejection, and close() still ends).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CLOSE_GRACE_MS, lazyDatabase } from '../../../src/cli/database.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { silentServer } from '../../harness/silent-server.js';

// Port 1 on the loopback: refused at once, so each case fails fast without a server.
const UNREACHABLE = 'postgres://inlet@127.0.0.1:1/none';

describe('lazyDatabase warm()', () => {
  const unhandled = vi.fn();
  process.on('unhandledRejection', unhandled);
  afterEach(() => unhandled.mockClear());

  it('keeps a failed early connection for get() to report, and close() ends', async () => {
    const db = lazyDatabase({ databaseUrl: UNREACHABLE, logger: silentLogger, migrate: true });
    db.warm();
    // Let the refused connection settle before anyone asks for it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(db.get()).rejects.toThrow(/127\.0\.0\.1|ECONNREFUSED|connect/i);
    await db.close();
    expect(unhandled).not.toHaveBeenCalled();
  });

  it('leaves nothing behind when no file asks for the database', async () => {
    const db = lazyDatabase({ databaseUrl: UNREACHABLE, logger: silentLogger, migrate: true });
    db.warm();
    await db.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unhandled).not.toHaveBeenCalled();
  });

  it('cuts an early connection the server never answers, rather than wait for its timeout (10 s)', async () => {
    // A server that accepts and says nothing: a hung PostgreSQL, a proxy whose backend is down.
    const server = await silentServer();
    try {
      const db = lazyDatabase({ databaseUrl: server.url, logger: silentLogger, migrate: true });
      db.warm();
      await server.accepted();
      const started = performance.now();
      await db.close();
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(CLOSE_GRACE_MS - 50);
      expect(waited).toBeLessThan(5_000);
      await server.closedByClient();
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      await server.close();
    }
  });

  it('opens once: get() after warm() is the same opening', async () => {
    const db = lazyDatabase({ databaseUrl: UNREACHABLE, logger: silentLogger, migrate: true });
    db.warm();
    const first = db.get();
    expect(db.get()).toBe(first);
    await first.catch(() => undefined);
    await db.close();
  });
});
