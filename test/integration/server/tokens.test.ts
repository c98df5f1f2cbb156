import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStatusOfCode } from '../../../src/error-codes/index.js';
import { InletError, UsageError } from '../../../src/errors.js';
import {
  BOOTSTRAP_NAME,
  bearerToken,
  createToken,
  listTokens,
  revokeToken,
  type TokenCheck,
  tokenAllowsPipeline,
  verifyToken,
} from '../../../src/server/tokens.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

/** The refusal, with the status the API answers it with (the catalogue's for its code). */
function refused(check: TokenCheck): { status: number | undefined; code: string; message: string } {
  if (check.ok) throw new Error(`expected a refusal, got ${JSON.stringify(check)}`);
  return { status: httpStatusOfCode(check.code), code: check.code, message: check.message };
}

describe('createToken and verifyToken', () => {
  it('creates a token that verifies with its name and pipelines', async () => {
    const created = await createToken(db.pool, { name: 'acme', pipelines: ['orders', 'refunds'] });
    expect(created.token).toMatch(/^inlet_[A-Za-z0-9_-]{43}$/);
    expect(created.status).toBe('active');
    const check = await verifyToken(db.pool, created.token);
    expect(check).toEqual({ ok: true, tokenId: created.id, name: 'acme', pipelines: ['orders', 'refunds'] });
  });

  it('stores only the hash, never the plain token', async () => {
    const created = await createToken(db.pool, { name: 'hashed' });
    const { rows } = await db.pool.query<Record<string, unknown>>(
      'SELECT * FROM inlet.api_tokens WHERE id = $1',
      [created.id],
    );
    const row = rows[0];
    expect(row?.token_sha256).toBe(createHash('sha256').update(created.token).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(created.token);
    expect(JSON.stringify(row)).not.toContain(created.token.slice('inlet_'.length));
    expect(row?.pipelines).toBeNull();
  });

  it('makes a different token every time', async () => {
    const a = await createToken(db.pool, { name: 'same' });
    const b = await createToken(db.pool, { name: 'same' });
    expect(a.token).not.toBe(b.token);
    expect(a.id).not.toBe(b.id);
  });

  it('refuses an empty name, an empty pipeline list and a past expiry', async () => {
    await expect(createToken(db.pool, { name: '  ' })).rejects.toBeInstanceOf(UsageError);
    await expect(createToken(db.pool, { name: 'x', pipelines: [] })).rejects.toBeInstanceOf(UsageError);
    await expect(
      createToken(db.pool, { name: 'x', expiresAt: new Date(Date.now() - 1000) }),
    ).rejects.toBeInstanceOf(UsageError);
  });
});

describe('refusals are 401 with their own code', () => {
  it('missing', async () => {
    for (const presented of [undefined, '', '   ']) {
      const check = refused(await verifyToken(db.pool, presented));
      expect(check).toMatchObject({ status: 401, code: 'missing_token' });
      expect(check.message).toContain('Authorization: Bearer');
    }
  });

  it('malformed', async () => {
    for (const presented of ['nope', 'inlet_short', 'Basic dXNlcjpwYXNz', `inlet_${'a'.repeat(44)}`]) {
      expect(refused(await verifyToken(db.pool, presented))).toMatchObject({
        status: 401,
        code: 'invalid_token',
      });
    }
  });

  it('unknown (well formed, never issued)', async () => {
    const check = refused(await verifyToken(db.pool, `inlet_${'A'.repeat(43)}`));
    expect(check).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(check.message).toContain('inlet tokens create');
  });

  it('revoked', async () => {
    const created = await createToken(db.pool, { name: 'to-revoke' });
    expect((await verifyToken(db.pool, created.token)).ok).toBe(true);
    const revoked = await revokeToken(db.pool, created.id);
    expect(revoked.status).toBe('revoked');
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    const check = refused(await verifyToken(db.pool, created.token));
    expect(check).toMatchObject({ status: 401, code: 'revoked_token' });
    expect(check.message).toContain('create a new one with inlet tokens create');
    // Revoking again keeps the first time.
    expect((await revokeToken(db.pool, created.id)).revokedAt).toEqual(revoked.revokedAt);
  });

  it('expired', async () => {
    const created = await createToken(db.pool, {
      name: 'short-lived',
      expiresAt: new Date(Date.now() + 60_000),
    });
    expect((await verifyToken(db.pool, created.token)).ok).toBe(true);
    await db.pool.query(
      "UPDATE inlet.api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1",
      [created.id],
    );
    const check = refused(await verifyToken(db.pool, created.token));
    expect(check).toMatchObject({ status: 401, code: 'expired_token' });
    expect(check.message).toContain('create a new one with inlet tokens create');
    const listed = (await listTokens(db.pool)).find((t) => t.id === created.id);
    expect(listed?.status).toBe('expired');
  });
});

describe('the bootstrap token (INLET_API_TOKEN)', () => {
  const bootstrapToken = 'a-bootstrap-secret-from-the-environment';

  it('is accepted for every pipeline', async () => {
    const check = await verifyToken(db.pool, bootstrapToken, { bootstrapToken });
    expect(check).toEqual({ ok: true, tokenId: 'bootstrap', name: BOOTSTRAP_NAME, pipelines: null });
    expect(tokenAllowsPipeline(check, 'anything')).toBe(true);
  });

  it('a wrong one is refused, and no bootstrap is accepted when it is unset or empty', async () => {
    expect(refused(await verifyToken(db.pool, `${bootstrapToken}x`, { bootstrapToken })).code).toBe(
      'invalid_token',
    );
    expect(refused(await verifyToken(db.pool, bootstrapToken)).code).toBe('invalid_token');
    expect(refused(await verifyToken(db.pool, '', { bootstrapToken: '' })).code).toBe('missing_token');
  });

  it('stored tokens still work beside it', async () => {
    const created = await createToken(db.pool, { name: 'beside' });
    expect((await verifyToken(db.pool, created.token, { bootstrapToken })).ok).toBe(true);
  });
});

describe('scope', () => {
  it('a scoped token allows only its pipelines; an unscoped one all; a refusal none', async () => {
    const scoped = await createToken(db.pool, { name: 'scoped', pipelines: ['orders'] });
    const all = await createToken(db.pool, { name: 'all' });
    const scopedCheck = await verifyToken(db.pool, scoped.token);
    const allCheck = await verifyToken(db.pool, all.token);
    expect(tokenAllowsPipeline(scopedCheck, 'orders')).toBe(true);
    expect(tokenAllowsPipeline(scopedCheck, 'refunds')).toBe(false);
    expect(tokenAllowsPipeline(allCheck, 'refunds')).toBe(true);
    expect(tokenAllowsPipeline(await verifyToken(db.pool, undefined), 'orders')).toBe(false);
  });
});

describe('last_used_at', () => {
  const lastUsed = async (id: string): Promise<Date | null> =>
    (
      await db.pool.query<{ last_used_at: Date | null }>(
        'SELECT last_used_at FROM inlet.api_tokens WHERE id = $1',
        [id],
      )
    ).rows[0]?.last_used_at ?? null;

  it('is set on use, written at most once a minute', async () => {
    const created = await createToken(db.pool, { name: 'used' });
    expect(await lastUsed(created.id)).toBeNull();

    await verifyToken(db.pool, created.token);
    const first = await lastUsed(created.id);
    expect(first).toBeInstanceOf(Date);

    // Within the minute: no write.
    await verifyToken(db.pool, created.token);
    expect(await lastUsed(created.id)).toEqual(first);

    // Older than a minute: written again.
    await db.pool.query(
      "UPDATE inlet.api_tokens SET last_used_at = now() - interval '2 minutes' WHERE id = $1",
      [created.id],
    );
    const before = await lastUsed(created.id);
    await verifyToken(db.pool, created.token);
    const after = await lastUsed(created.id);
    expect(after?.getTime()).toBeGreaterThan(before?.getTime() ?? 0);

    const listed = (await listTokens(db.pool)).find((t) => t.id === created.id);
    expect(listed?.lastUsedAt).toEqual(after);
  });

  it('is not touched by a refused token', async () => {
    const created = await createToken(db.pool, { name: 'revoked-unused' });
    await revokeToken(db.pool, created.id);
    await verifyToken(db.pool, created.token);
    expect(await lastUsed(created.id)).toBeNull();
  });
});

describe('listTokens and revokeToken', () => {
  it('lists every token without its hash', async () => {
    const created = await createToken(db.pool, { name: 'listed', pipelines: ['orders'] });
    const tokens = await listTokens(db.pool);
    const listed = tokens.find((t) => t.id === created.id);
    expect(listed).toEqual({
      id: created.id,
      name: 'listed',
      pipelines: ['orders'],
      createdAt: expect.any(Date),
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
      status: 'active',
    });
    expect(JSON.stringify(tokens)).not.toMatch(/[0-9a-f]{64}/);
  });

  it('an unknown id is not_found; a malformed id a usage error', async () => {
    await expect(revokeToken(db.pool, randomUUID())).rejects.toMatchObject({ code: 'not_found' });
    await expect(revokeToken(db.pool, randomUUID())).rejects.toBeInstanceOf(InletError);
    await expect(revokeToken(db.pool, 'nope')).rejects.toBeInstanceOf(UsageError);
  });
});

describe('bearerToken', () => {
  it('reads the credential of an Authorization header', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('  ')).toBeUndefined();
    expect(bearerToken('Bearer inlet_abc')).toBe('inlet_abc');
    expect(bearerToken('bearer   inlet_abc ')).toBe('inlet_abc');
    // Another scheme is passed on whole, and can never verify.
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBe('Basic dXNlcjpwYXNz');
  });
});
