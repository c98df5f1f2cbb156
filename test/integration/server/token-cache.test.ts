/**
 * Upload services keep checked tokens in memory (src/server/token-cache.ts), and a revocation still takes
 * effect at once in each of them: two services, each on its own pool, hear the change through
 * `inlet_tokens` and refuse the token. The cache's TTL (60 s) is far longer than these tests wait, so only
 * the notification can be what refuses it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/db/connect.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { TokenCache } from '../../../src/server/token-cache.js';
import { createToken, revokeToken } from '../../../src/server/tokens.js';
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

/** Uploads until one is refused or the deadline passes; the refusal. */
async function firstRefusal(service: RunningService, token: string) {
  const deadline = Date.now() + WAIT_MS;
  for (let i = 0; Date.now() < deadline; i++) {
    const answer = await upload(service, token, `after-${i}.ndjson`);
    if (answer.status !== 202) return answer;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { status: 202, code: undefined };
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
      for (const service of services) {
        expect(await firstRefusal(service, token)).toEqual({ status: 401, code: 'revoked_token' });
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
      expect(await firstRefusal(service, token)).toEqual({ status: 401, code: 'expired_token' });
    } finally {
      await service.stop();
    }
  });

  it('is not used while its channel is lost, and is used again once it listens again', async () => {
    const cache = new TokenCache((db.pool as unknown as { options: Record<string, unknown> }).options, {
      logger: silentLogger,
      reconnectMs: 50,
    });
    await cache.start();
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
