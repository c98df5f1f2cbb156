/**
 * Accepting an upload: route the client's name to a pipeline, check the token may use it, sniff the
 * content, verify the client's checksum, honour an Idempotency-Key, and write the file durably into the
 * spool. The caller answers `202` only when this resolves: the file is on disk and queued.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { findPipeline } from '../config/route.js';
import { isRetryable } from '../db/errors.js';
import type { InletConfig, Pipeline } from '../engine/contract.js';
import { InletError, UsageError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { HttpError } from './http-error.js';
import { QueuedLedger } from './queued-ledger.js';
import { sniffed, sniffUpload } from './sniff.js';
import type { Spool, SpoolEntry } from './spool.js';
import { type TokenCheck, tokenAllowsPipeline } from './tokens.js';

export interface AcceptDeps {
  spool: Spool;
  config: InletConfig;
  pool: pg.Pool;
  logger: Logger;
  maxUploadBytes: number;
  queued: QueuedLedger;
}

export interface UploadRequest {
  /**
   * The client's file name exactly as sent, folders included (`orders/2026-11.csv`): the decoded path of
   * PUT /v1/files/{name}, or the multipart part's filename. One rule for both doors: it routes the file
   * and names it in the ledger (`upload:///…`), and is checked here, but never becomes a path.
   */
  name: string;
  principal: Extract<TokenCheck, { ok: true }>;
  /** `?pipeline=`: route to this pipeline whatever `match` says. */
  pipeline?: string | undefined;
  idempotencyKey?: string | undefined;
  /** Base64 MD5 from `Content-MD5`. */
  contentMd5?: string | undefined;
  /** Base64 SHA-256 from `x-amz-checksum-sha256`. */
  checksumSha256?: string | undefined;
  body: AsyncIterable<Uint8Array>;
}

export interface Accepted {
  ingestionId: string;
  pipeline: string;
  /** True when an Idempotency-Key named an earlier upload: nothing new was stored. */
  replayed: boolean;
  bytes: number;
}

const MAX_NAME_BYTES = 1024;
const MAX_KEY_LENGTH = 255;

/** Checks that need no body: the name, the pipeline and the token's right to it. */
export function routeUpload(deps: AcceptDeps, request: Omit<UploadRequest, 'body'>): Pipeline {
  const { name } = request;
  if (name === '' || name.endsWith('/')) {
    throw new HttpError(
      400,
      'invalid_name',
      'The upload needs a file name that does not end in "/": PUT /v1/files/{name}, or the filename of ' +
        'the multipart file part, e.g. orders/2026-11.csv.',
    );
  }
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new HttpError(
      400,
      'invalid_name',
      `The file name is longer than ${MAX_NAME_BYTES} bytes; shorten it.`,
    );
  }
  if (request.idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(request.idempotencyKey)) {
    throw new HttpError(
      400,
      'invalid_idempotency_key',
      `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} visible ASCII characters (a UUID is a good choice).`,
    );
  }
  let pipeline: Pipeline | undefined;
  try {
    pipeline = findPipeline(deps.config, name, request.pipeline);
  } catch (error) {
    if (error instanceof UsageError) throw new HttpError(422, 'unknown_pipeline', error.message);
    throw error;
  }
  if (pipeline === undefined) {
    const patterns = deps.config.pipelines.map((p) => `${p.name}: ${p.match.join(', ')}`).join('; ');
    throw new HttpError(
      422,
      'no_pipeline',
      `No pipeline matches the name "${name}" (${patterns}). Rename the file, or add ?pipeline=NAME.`,
    );
  }
  if (!tokenAllowsPipeline(request.principal, pipeline.name)) {
    throw new HttpError(
      403,
      'forbidden_pipeline',
      `The token "${request.principal.name}" may not upload to pipeline "${pipeline.name}"; ` +
        'use a token created with --pipeline for it, or one without a pipeline scope.',
    );
  }
  return pipeline;
}

/** The ingestion an Idempotency-Key already names (within 24 hours), if any. */
export async function findByIdempotencyKey(
  pool: pg.Pool | pg.PoolClient,
  principal: UploadRequest['principal'],
  key: string,
): Promise<string | undefined> {
  const { rows } = await pool.query<{ ingestion_id: string }>(
    `SELECT ingestion_id FROM inlet.upload_keys
      WHERE token_id = $1 AND key = $2 AND created_at > now() - interval '24 hours'`,
    [principal.tokenId, key],
  );
  return rows[0]?.ingestion_id;
}

export async function acceptUpload(deps: AcceptDeps, request: UploadRequest): Promise<Accepted> {
  const pipeline = routeUpload(deps, request);
  const key = request.idempotencyKey;
  if (key !== undefined) {
    const earlier = await retrying(() => findByIdempotencyKey(deps.pool, request.principal, key)).catch(
      (error: unknown) => {
        throw unavailable(error);
      },
    );
    if (earlier !== undefined)
      return { ingestionId: earlier, pipeline: pipeline.name, replayed: true, bytes: 0 };
  }

  const md5 = request.contentMd5 === undefined ? undefined : createHash('md5');
  const body = sniffed(tapped(request.body, md5), (head) => sniffUpload(head, request.name, pipeline));
  let replayOf: string | undefined;
  const entry = await deps.spool
    .accept(body, {
      name: request.name,
      maxBytes: deps.maxUploadBytes,
      meta: { pipeline: pipeline.name, tokenId: request.principal.tokenId },
      aroundPublish: async (staged, publish) => {
        verifyChecksums(request, staged, md5);
        if (key === undefined) {
          await publish();
          deps.queued.add(pipeline, staged);
          return;
        }
        replayOf = await publishOnce(deps, request.principal, key, pipeline, staged, publish);
        if (replayOf !== undefined) throw new Replayed();
      },
    })
    .catch((error: unknown) => {
      if (error instanceof Replayed) return undefined;
      throw error;
    });
  if (entry === undefined) {
    return { ingestionId: replayOf as string, pipeline: pipeline.name, replayed: true, bytes: 0 };
  }
  deps.logger.info('upload accepted', {
    ingestionId: entry.id,
    name: entry.name,
    pipeline: pipeline.name,
    bytes: entry.size,
    token: request.principal.name,
  });
  return { ingestionId: entry.id, pipeline: pipeline.name, replayed: false, bytes: entry.size };
}

/** Thrown inside aroundPublish to drop the staged copy of a body that an earlier upload already stored. */
class Replayed extends Error {}

async function* tapped(
  body: AsyncIterable<Uint8Array>,
  md5: ReturnType<typeof createHash> | undefined,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    md5?.update(chunk);
    yield chunk;
  }
}

function verifyChecksums(
  request: UploadRequest,
  staged: SpoolEntry,
  md5: ReturnType<typeof createHash> | undefined,
): void {
  if (md5 !== undefined && request.contentMd5 !== undefined) {
    const actual = md5.digest('base64');
    if (actual !== request.contentMd5.trim()) {
      throw new HttpError(
        400,
        'checksum_mismatch',
        `Content-MD5 says ${request.contentMd5.trim()} but the body received has MD5 ${actual}: ` +
          'the upload was damaged or cut short; send it again.',
      );
    }
  }
  if (request.checksumSha256 !== undefined) {
    const actual = Buffer.from(staged.sha256, 'hex').toString('base64');
    if (actual !== request.checksumSha256.trim()) {
      throw new HttpError(
        400,
        'checksum_mismatch',
        `x-amz-checksum-sha256 says ${request.checksumSha256.trim()} but the body received has SHA-256 ${actual}: ` +
          'the upload was damaged or cut short; send it again.',
      );
    }
  }
}

/**
 * Claims the key, writes the queued ledger row and publishes the file in one transaction: either the key
 * names a file that is in the spool, or it names nothing and the file is not stored. Returns the earlier
 * ingestion when another request holds the key.
 */
async function publishOnce(
  deps: AcceptDeps,
  principal: UploadRequest['principal'],
  key: string,
  pipeline: Pipeline,
  staged: SpoolEntry,
  publish: () => Promise<void>,
): Promise<string | undefined> {
  const client = await retrying(() => deps.pool.connect()).catch((error: unknown) => {
    throw unavailable(error);
  });
  let failure: Error | undefined;
  try {
    await client.query('BEGIN');
    const claimed = await client.query(
      `INSERT INTO inlet.upload_keys AS k (token_id, key, ingestion_id) VALUES ($1, $2, $3)
       ON CONFLICT (token_id, key) DO UPDATE SET ingestion_id = EXCLUDED.ingestion_id, created_at = now()
         WHERE k.created_at <= now() - interval '24 hours'
       RETURNING ingestion_id`,
      [principal.tokenId, key, staged.id],
    );
    if (claimed.rowCount === 0) {
      await client.query('ROLLBACK');
      // On this connection, not another from the pool: requests racing on one key each hold a connection
      // here, and waiting for a second one could exhaust the pool with all of them waiting.
      return (await findByIdempotencyKey(client, principal, key)) ?? staged.id;
    }
    await client.query(QueuedLedger.sql(1), QueuedLedger.row(pipeline, staged));
    await publish();
    await client.query('COMMIT');
    return undefined;
  } catch (error) {
    failure = error as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error instanceof InletError ? error : unavailable(error);
  } finally {
    client.release(failure);
  }
}

/**
 * A few quick tries for what a busy database says now and not a moment later (too many connections, a
 * restart): the client is waiting on the line, so the whole budget is well under a second.
 */
async function retrying<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= 4 || !isRetryable(error)) throw error;
      await sleep(50 * 2 ** attempt);
    }
  }
}

function unavailable(error: unknown): HttpError {
  return new HttpError(
    503,
    'database_unavailable',
    'The database is not reachable, so an upload with an Idempotency-Key cannot be recorded; try again shortly.',
    { cause: error, headers: { 'retry-after': '5' } },
  );
}
