/**
 * The upload API end to end: authentication and scopes (B14): 401 and 403 before anything is stored; the
 * open and the closed routes.
 * Set-up and helpers: test/harness/upload-api.ts and upload-client.ts.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createToken, revokeToken } from '../../../../src/server/tokens.js';
import { db, expectNothingStored, running, useUploadApi } from '../../../harness/upload-api.js';
import { accepted, put, refused, waitForVerdict } from '../../../harness/upload-client.js';
import { api } from '../../../harness/upload-service.js';

useUploadApi();

describe('authentication (B14)', () => {
  const csv = 'id,amount,note\n100,1,auth\n';

  it('refuses a request without a token: 401, WWW-Authenticate, missing_token', async () => {
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/auth-missing.csv', csv, { token: null });
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="inlet"');
      await refused(response, 401, 'missing_token');
    });
  });

  it('refuses malformed and unknown tokens with 401 invalid_token', async () => {
    const malformed = await api(running.service, '/v1/ingestions', { token: 'not-a-token' });
    expect(malformed.headers.get('www-authenticate')).toContain('error="invalid_token"');
    await refused(malformed, 401, 'invalid_token');

    const unknown = await api(running.service, '/v1/ingestions', { token: `inlet_${'A'.repeat(43)}` });
    expect(unknown.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const error = await refused(unknown, 401, 'invalid_token');
    expect(error.message).toContain('not one this server knows');

    // Another scheme is not a bearer token.
    const basic = await api(running.service, '/v1/ingestions', {
      token: null,
      headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
    });
    await refused(basic, 401, 'invalid_token');
  });

  it('refuses a revoked token with 401 revoked_token, though it worked before', async () => {
    const token = await createToken(db.pool, { name: 'to-be-revoked' });
    expect((await api(running.service, '/v1/ingestions', { token: token.token })).status).toBe(200);
    await revokeToken(db.pool, token.id);
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/auth-revoked.csv', csv, { token: token.token });
      expect(response.headers.get('www-authenticate')).toContain('error_description="revoked_token"');
      const error = await refused(response, 401, 'revoked_token');
      expect(error.message).toContain('to-be-revoked');
    });
  });

  it('refuses an expired token with 401 expired_token', async () => {
    const token = await createToken(db.pool, {
      name: 'short-lived',
      expiresAt: new Date(Date.now() + 3600_000),
    });
    expect((await api(running.service, '/v1/ingestions', { token: token.token })).status).toBe(200);
    await db.pool.query(
      `UPDATE inlet.api_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1`,
      [token.id],
    );
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/auth-expired.csv', csv, { token: token.token });
      expect(response.headers.get('www-authenticate')).toContain('error_description="expired_token"');
      await refused(response, 401, 'expired_token');
    });
  });

  it('refuses a token scoped to another pipeline with 403 forbidden_pipeline, and accepts its own', async () => {
    const events = await createToken(db.pool, { name: 'events-only', pipelines: ['events'] });
    await expectNothingStored(running.spoolDir, async () => {
      const response = await put(running.service, 'orders/auth-scoped.csv', csv, { token: events.token });
      const error = await refused(response, 403, 'forbidden_pipeline');
      expect(error.message).toContain('events-only');
      expect(error.message).toContain('"orders"');
    });
    // ?pipeline= cannot route around the scope either.
    const forced = await put(running.service, 'events/forced.ndjson?pipeline=orders', csv, {
      token: events.token,
    });
    await refused(forced, 403, 'forbidden_pipeline');

    const own = await put(running.service, 'events/auth-scoped.ndjson', '{"kind":"scoped","at":null}\n', {
      token: events.token,
    });
    const body = await accepted(own);
    expect(body.pipeline).toBe('events');
    expect(await waitForVerdict(running.service, body.ingestionId)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 1,
    });
    const { rows } = await db.pool.query(`SELECT kind FROM up.events WHERE kind = 'scoped'`);
    expect(rows).toEqual([{ kind: 'scoped' }]);
  });

  it('serves /healthz without a token', async () => {
    const response = await api(running.service, '/healthz', { token: null });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      database: string;
      accepting: boolean;
      spool: unknown;
    };
    expect(body).toMatchObject({ status: 'ok', database: 'ok', accepting: true });
    expect(body.spool).toMatchObject({ incoming: expect.any(Number), done: expect.any(Number) });
  });

  it('requires a token for /metrics, /v1/openapi.json and the status routes', async () => {
    for (const route of [
      '/metrics',
      '/v1/openapi.json',
      '/v1/ingestions',
      `/v1/ingestions/${randomUUID()}`,
    ]) {
      const response = await api(running.service, route, { token: null });
      expect(response.headers.get('www-authenticate'), route).toBe('Bearer realm="inlet"');
      await refused(response, 401, 'missing_token');
    }
    const openapi = await api(running.service, '/v1/openapi.json');
    expect(openapi.status).toBe(200);
    const doc = (await openapi.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/files', '/v1/ingestions']));
    const metrics = await api(running.service, '/metrics');
    expect(metrics.status).toBe(200);
  });
});
