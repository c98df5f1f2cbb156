/**
 * Bearer tokens for the upload API. `inlet tokens create` makes them; only their SHA-256 is stored,
 * so the plain token is shown exactly once. A token may be scoped to pipelines (null = all), given
 * an expiry, and revoked. INLET_API_TOKEN is accepted alongside as a bootstrap token for every
 * pipeline.
 *
 * verifyToken() answers with a TokenCheck, never an exception, for anything the client did wrong:
 * missing, malformed, unknown, revoked and expired tokens are all 401 with their own code. Whether a
 * valid token may touch a pipeline (403) is the route's call, through tokenAllowsPipeline().
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import type { HttpErrorCode } from '../error-codes/index.js';
import { InletError, UsageError } from '../errors.js';
import type { TokenCache } from './token-cache.js';

export const TOKEN_PREFIX = 'inlet_';
/** 32 random bytes in base64url without padding are 43 characters. */
const TOKEN_PATTERN = /^inlet_[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CREATE_HINT = 'create a new one with inlet tokens create';

export type TokenStatus = 'active' | 'revoked' | 'expired';

export interface TokenInfo {
  id: string;
  name: string;
  /** null: every pipeline. */
  pipelines: string[] | null;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  /** As of the database's clock when read. */
  status: TokenStatus;
}

export interface CreateTokenInput {
  name: string;
  /** Omit (or null) for every pipeline. */
  pipelines?: readonly string[] | null | undefined;
  expiresAt?: Date | null | undefined;
}

/** The plain token is in `token`; it is not stored and cannot be shown again. */
export interface CreatedToken extends TokenInfo {
  token: string;
}

/** Why a bearer token is refused: the API answers these with 401. */
export type TokenRefusalCode = Extract<
  HttpErrorCode,
  'missing_token' | 'invalid_token' | 'revoked_token' | 'expired_token'
>;

export type TokenCheck =
  | { ok: true; tokenId: string | 'bootstrap'; name: string; pipelines: string[] | null }
  | {
      ok: false;
      code: TokenRefusalCode;
      message: string;
    };

export interface VerifyOptions {
  /** INLET_API_TOKEN: accepted for every pipeline; unset or empty turns it off. */
  bootstrapToken?: string | undefined;
  /** Stored tokens checked lately (an upload service's); without it, every check reads the database. */
  cache?: TokenCache | undefined;
}

/** How often a token's last_used_at is written at most. */
const LAST_USED_EVERY_MS = 60_000;

/** The name a bootstrap check reports. */
export const BOOTSTRAP_NAME = 'INLET_API_TOKEN';

interface TokenRow {
  id: string;
  name: string;
  pipelines: string[] | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  status: TokenStatus;
}

const STATUS_SQL = `CASE WHEN revoked_at IS NOT NULL THEN 'revoked'
                         WHEN expires_at IS NOT NULL AND expires_at <= now() THEN 'expired'
                         ELSE 'active' END AS status`;
const COLUMNS = `id, name, pipelines, created_at, expires_at, revoked_at, last_used_at, ${STATUS_SQL}`;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export async function createToken(pool: pg.Pool, input: CreateTokenInput): Promise<CreatedToken> {
  const name = input.name.trim();
  if (name === '') throw new UsageError('invalid_argument', 'a token needs a name, e.g. --name ci-uploads');
  const pipelines = normalisePipelines(input.pipelines);
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt !== null && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) {
    throw new UsageError('invalid_argument', 'the expiry of a new token must be a date in the future');
  }
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const { rows } = await pool.query<TokenRow>(
    `INSERT INTO inlet.api_tokens (id, name, token_sha256, pipelines, expires_at)
     VALUES ($1, $2, $3, $4, $5)
     RETURNING ${COLUMNS}`,
    [randomUUID(), name, hashToken(token), pipelines, expiresAt],
  );
  const row = rows[0];
  if (row === undefined) throw new InletError('internal', 'creating the token returned no row');
  return { ...toInfo(row), token };
}

/** Every token, oldest first; never the hash. */
export async function listTokens(pool: pg.Pool): Promise<TokenInfo[]> {
  const { rows } = await pool.query<TokenRow>(
    `SELECT ${COLUMNS} FROM inlet.api_tokens ORDER BY created_at, id`,
  );
  return rows.map(toInfo);
}

/**
 * Revokes a token from now on. Revoking one already revoked keeps the first time and succeeds;
 * an id that names no token is a `not_found` error.
 */
export async function revokeToken(pool: pg.Pool, id: string): Promise<TokenInfo> {
  if (!isTokenId(id)) {
    throw new UsageError(
      'invalid_argument',
      `"${id}" is not a token id: expected a UUID, as inlet tokens list shows`,
    );
  }
  const { rows } = await pool.query<TokenRow>(
    `UPDATE inlet.api_tokens SET revoked_at = coalesce(revoked_at, now())
      WHERE id = $1
      RETURNING ${COLUMNS}`,
    [id],
  );
  const row = rows[0];
  if (row === undefined) {
    throw new InletError('not_found', `no token ${id}; list them with: inlet tokens list`);
  }
  return toInfo(row);
}

/** The bootstrap token's SHA-256, made once per token rather than once per request. */
let bootstrapMemo: { token: string; digest: Buffer } | undefined;
function bootstrapDigest(token: string): Buffer {
  if (bootstrapMemo?.token !== token) {
    bootstrapMemo = { token, digest: createHash('sha256').update(token, 'utf8').digest() };
  }
  return bootstrapMemo.digest;
}

/**
 * Checks a presented bearer token (the part after `Bearer `). The bootstrap token is compared in
 * constant time; stored tokens are looked up by their hash, so nothing secret is compared in SQL.
 * A valid stored token gets its last_used_at refreshed at most once a minute.
 */
export async function verifyToken(
  pool: pg.Pool,
  presented: string | undefined,
  options: VerifyOptions = {},
): Promise<TokenCheck> {
  if (presented === undefined || presented.trim() === '') {
    return refuse(
      'missing_token',
      'no bearer token: send the header "Authorization: Bearer <token>"; create a token with inlet tokens create',
    );
  }
  const presentedHash = createHash('sha256').update(presented, 'utf8').digest();
  const bootstrap = options.bootstrapToken;
  if (bootstrap !== undefined && bootstrap !== '') {
    const bootstrapHash = bootstrapDigest(bootstrap);
    if (timingSafeEqual(presentedHash, bootstrapHash)) {
      return { ok: true, tokenId: 'bootstrap', name: BOOTSTRAP_NAME, pipelines: null };
    }
  }
  if (!TOKEN_PATTERN.test(presented)) {
    return refuse(
      'invalid_token',
      `the bearer token is malformed (Inlet tokens start with "${TOKEN_PREFIX}"); ${CREATE_HINT}`,
    );
  }
  const hash = presentedHash.toString('hex');
  const { cache } = options;
  // An entry is trusted only once every change committed before this request is known to be heard (a
  // revocation a moment ago included); one past its expiry is read again, for the refusal's own words.
  const cached =
    cache !== undefined && cache.get(hash) !== undefined && (await cache.fresh())
      ? cache.get(hash)
      : undefined;
  if (cached !== undefined && (cached.expiresAt === null || cached.expiresAt.getTime() > Date.now())) {
    if (Date.now() - cached.lastUsedAt >= LAST_USED_EVERY_MS) {
      cached.lastUsedAt = Date.now();
      await touchLastUsed(pool, cached.id);
    }
    return { ok: true, tokenId: cached.id, name: cached.name, pipelines: cached.pipelines };
  }
  const version = cache?.version;
  const { rows } = await pool.query<TokenRow & { stale: boolean }>(
    `SELECT ${COLUMNS},
            (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') AS stale
       FROM inlet.api_tokens WHERE token_sha256 = $1`,
    [hash],
  );
  const row = rows[0];
  if (row === undefined) {
    return refuse('invalid_token', `the bearer token is not one this server knows; ${CREATE_HINT}`);
  }
  if (row.status === 'revoked') {
    return refuse(
      'revoked_token',
      `the token "${row.name}" was revoked at ${row.revoked_at?.toISOString()}; ${CREATE_HINT}`,
    );
  }
  if (row.status === 'expired') {
    return refuse(
      'expired_token',
      `the token "${row.name}" expired at ${row.expires_at?.toISOString()}; ${CREATE_HINT}`,
    );
  }
  if (row.stale) await touchLastUsed(pool, row.id);
  if (cache !== undefined && version !== undefined) {
    cache.put(
      hash,
      {
        id: row.id,
        name: row.name,
        pipelines: row.pipelines,
        expiresAt: row.expires_at,
        lastUsedAt: row.stale ? Date.now() : (row.last_used_at?.getTime() ?? Date.now()),
      },
      version,
    );
  }
  return { ok: true, tokenId: row.id, name: row.name, pipelines: row.pipelines };
}

/** The condition is checked again under the row lock, so concurrent requests (and services) write it once. */
async function touchLastUsed(pool: pg.Pool, id: string): Promise<void> {
  await pool.query(
    `UPDATE inlet.api_tokens SET last_used_at = now()
      WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [id],
  );
}

/** Whether a verified token may work on this pipeline; a refused check allows nothing. */
export function tokenAllowsPipeline(check: TokenCheck, pipeline: string): boolean {
  if (!check.ok) return false;
  return check.pipelines === null || check.pipelines.includes(pipeline);
}

/**
 * The credential of an `Authorization` header: undefined when there is none. Another scheme is
 * returned whole, which never matches a token (it contains a space), so it ends as invalid_token.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.trim() === '') return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  return match?.[1] ?? authorization;
}

/** Whether `id` has the shape of a token id (a UUID); says nothing about whether it exists. */
export function isTokenId(id: string): boolean {
  return UUID.test(id);
}

function refuse(code: TokenRefusalCode, message: string): TokenCheck {
  return { ok: false, code, message };
}

function normalisePipelines(pipelines: readonly string[] | null | undefined): string[] | null {
  if (pipelines === undefined || pipelines === null) return null;
  const names = [...new Set(pipelines.map((p) => p.trim()))];
  if (names.length === 0) {
    throw new UsageError('invalid_argument', 'omit the pipelines to allow every pipeline; none were given');
  }
  if (names.includes('')) throw new UsageError('invalid_argument', 'a pipeline name cannot be empty');
  return names;
}

function toInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    name: row.name,
    pipelines: row.pipelines,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
    status: row.status,
  };
}
