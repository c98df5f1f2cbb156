import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { HttpError } from './http-error.js';
import type { TokenCache } from './token-cache.js';
import { bearerToken, type TokenCheck, verifyToken } from './tokens.js';

export type Principal = Extract<TokenCheck, { ok: true }>;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/** The request's verified token; routes behind `authenticate` always have one. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw new HttpError('missing_token', 'not authenticated');
  return request.principal;
}

/** An onRequest hook: 401 (with `WWW-Authenticate`, RFC 6750) unless the bearer token is valid. */
export function authenticate(pool: pg.Pool, bootstrapToken: string | undefined, cache?: TokenCache) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    let check: TokenCheck;
    try {
      check = await verifyToken(pool, bearerToken(request.headers.authorization), { bootstrapToken, cache });
    } catch (error) {
      throw new HttpError(
        'database_unavailable',
        'Tokens cannot be checked because the database is not reachable; try again shortly.',
        { cause: error, headers: { 'retry-after': '5' } },
      );
    }
    if (!check.ok) {
      const challenge =
        check.code === 'missing_token'
          ? 'Bearer realm="inlet"'
          : `Bearer realm="inlet", error="invalid_token", error_description="${check.code}"`;
      throw new HttpError(check.code, check.message, {
        headers: { 'www-authenticate': challenge },
      });
    }
    request.principal = check;
  };
}
