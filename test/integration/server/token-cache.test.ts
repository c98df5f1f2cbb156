/**
 * Upload services keep checked tokens in memory (src/server/token-cache.ts), and a revocation still takes
 * effect at once in each of them: the first request after it is refused, not one a moment later. Two
 * services, each on its own pool, hear the change through `inlet_tokens`; a service whose listening
 * connection is slow to deliver it waits for its own notification before trusting an entry. The cache's
 * TTL (60 s) is far longer than these tests wait, so only the notifications can be what refuses it.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/db/connect.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { TokenCache } from '../../../src/server/token-cache.js';
import { createToken, revokeToken, verifyToken } from '../../../src/server/tokens.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { type RunningService, runService, uploadConfig } from '../../harness/upload-service.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

const WAIT_MS = 10_000;

/** A second service process's view: its own pool, so its own connections and its own cache. */
async function ownPool(): Promise<TestDatabase> {
  return { ...db, pool: createPool(db.url, { max: 4, applicationName: 'inlet-test-second' }) };
}

/** Counts the token lookups a pool makes. */
function countLookups(target: TestDatabase): { count: () => number } {
  let lookups = 0;
  const query = target.pool.query.bind(target.pool) as (...args: unknown[]) => unknown;
  (target.pool as { query: unknown }).query = (text: unknown, ...rest: unknown[]) => {
    if (typeof text === 'string' && text.includes('WHERE token_sha256 = $1')) lookups++;
    return query(text, ...rest);
  };
  return { count: () => lookups };
}

async function upload(service: RunningService, token: string, name: string) {
  const answer = await fetch(`${service.service.url}/v1/files/events/${name}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}` },
    body: '{"kind":"a"}\n',
  });
  const body = (await answer.json()) as { error?: { code: string } };
  return { status: answer.status, code: body.error?.code };
}

/** A started cache on the test database's connection settings. */
async function startedCache(options: { syncTimeoutMs?: number } = {}): Promise<TokenCache> {
  const cache = new TokenCache((db.pool as unknown as { options: Record<string, unknown> }).options, {
    logger: silentLogger,
    reconnectMs: 50,
    ...options,
  });
  await cache.start();
  return cache;
}

/**
 * The socket of the cache's listening connection, to hold its notifications back as a busy machine can
 * (the private field is reached on purpose: nothing else can delay what PostgreSQL has already sent).
 */
function listeningSocket(cache: TokenCache): { pause(): void; resume(): void } {
  const client = Reflect.get(cache, 'listener') as pg.Client;
  return (client as unknown as { connection: { stream: { pause(): void; resume(): void } } }).connection
    .stream;
}

describe('the token cache', () => {
  it('checks a token once per service, and a revocation is refused at once by every service', async () => {
    const second = await ownPool();
    const counted = [countLookups(db), countLookups(second)];
    const services = [
      await runService(db, uploadConfig('public')),
      await runService(second, uploadConfig('public')),
    ];
    try {
      const { id, token } = await createToken(db.pool, { name: 'cached' });
      for (const [s, service] of services.entries()) {
        for (let i = 0; i < 3; i++)
          expect((await upload(service, token, `s${s}-${i}.ndjson`)).status).toBe(202);
      }
      // Read once by each service, then from memory.
      expect(counted.map((c) => c.count())).toEqual([1, 1]);

      await revokeToken(db.pool, id);
      for (const [s, service] of services.entries()) {
        expect(await upload(service, token, `after-${s}.ndjson`)).toEqual({
          status: 401,
          code: 'revoked_token',
        });
      }
    } finally {
      for (const service of services) await service.stop();
      await second.pool.end();
    }
  });

  it('hears a change made in SQL by hand too: an expiry moved to now is refused', async () => {
    const service = await runService(db, uploadConfig('public'));
    try {
      const { id, token } = await createToken(db.pool, { name: 'by-hand' });
      expect((await upload(service, token, 'before.ndjson')).status).toBe(202);
      await db.pool.query('UPDATE inlet.api_tokens SET expires_at = now() WHERE id = $1', [id]);
      expect(await upload(service, token, 'after.ndjson')).toEqual({ status: 401, code: 'expired_token' });
    } finally {
      await service.stop();
    }
  });

  it('refuses a token revoked a moment ago though its notification has not arrived yet', async () => {
    const cache = await startedCache();
    try {
      const { id, token } = await createToken(db.pool, { name: 'slow-news' });
      expect(await verifyToken(db.pool, token, { cache })).toMatchObject({ ok: true });
      expect(cache.active).toBe(true);
      const socket = listeningSocket(cache);
      socket.pause();
      await revokeToken(db.pool, id);
      // The entry is still there (nothing was heard); the check waits for its own notification, which
      // PostgreSQL delivers after the revocation's.
      const check = verifyToken(db.pool, token, { cache });
      setTimeout(() => socket.resume(), 100).unref();
      expect(await check).toMatchObject({ ok: false, code: 'revoked_token' });
    } finally {
      await cache.stop();
    }
  });

  it('reads the database when its own notification does not come back in time', async () => {
    const cache = await startedCache({ syncTimeoutMs: 100 });
    const socket = listeningSocket(cache);
    try {
      const { id, token } = await createToken(db.pool, { name: 'no-news' });
      expect(await verifyToken(db.pool, token, { cache })).toMatchObject({ ok: true });
      socket.pause();
      await revokeToken(db.pool, id);
      expect(await verifyToken(db.pool, token, { cache })).toMatchObject({
        ok: false,
        code: 'revoked_token',
      });
    } finally {
      socket.resume();
      await cache.stop();
    }
  });

  it('answers many requests with one notification of its own, not one each', async () => {
    const cache = await startedCache();
    try {
      const { token } = await createToken(db.pool, { name: 'busy' });
      expect(await verifyToken(db.pool, token, { cache })).toMatchObject({ ok: true });
      const client = Reflect.get(cache, 'listener') as pg.Client;
      let sent = 0;
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        sent++;
        return query(...args);
      };
      const checks = await Promise.all(
        Array.from({ length: 50 }, () => verifyToken(db.pool, token, { cache })),
      );
      expect(checks.every((check) => check.ok)).toBe(true);
      // The first request sends one; the 49 that arrive while it is on its way share the next.
      expect(sent).toBeLessThanOrEqual(2);
      expect(sent).toBeGreaterThanOrEqual(1);
    } finally {
      await cache.stop();
    }
  });

  it('is not used while its channel is lost, and is used again once it listens again', async () => {
    const cache = await startedCache();
    try {
      const token = { id: 'x', name: 'x', pipelines: null, expiresAt: null, lastUsedAt: Date.now() };
      cache.put('hash', token, cache.version);
      expect(cache.get('hash')).toBe(token);
      // A lookup that began before a change is not kept.
      const before = cache.version;
      await db.pool.query(`SELECT pg_notify('inlet_tokens', 'other')`);
      const deadline = Date.now() + WAIT_MS;
      while (cache.version === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      cache.put('late', token, before);
      expect(cache.get('late')).toBeUndefined();

      await db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'inlet-token-cache'`,
      );
      while (cache.active && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(cache.get('hash')).toBeUndefined();
      while (!cache.active && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(cache.active).toBe(true);
      // What was cached before the loss may have changed unheard: it is gone.
      expect(cache.get('hash')).toBeUndefined();
      cache.put('hash', token, cache.version);
      expect(cache.get('hash')).toBe(token);
    } finally {
      await cache.stop();
    }
  });
});
