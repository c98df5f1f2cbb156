/**
 * Accepting an upload: route the client's name to a pipeline, check the token may use it, sniff the
 * content, verify the client's checksum, honour an Idempotency-Key, and write the file durably into the
 * spool. The caller answers `202` only when this resolves: the file is on disk and queued.
 *
 * An Idempotency-Key names one request, per token, for 24 hours, as payment APIs treat it: the same
 * request again (same pipeline, same name, same body) is answered with the first ingestion and its status
 * now, and stores nothing; the key reused for a different pipeline, name or body is `409
 * idempotency_key_reused`, and stores nothing either.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { findPipeline } from '../config/route.js';
import { isRetryable } from '../db/errors.js';
import { InletError, UsageError } from '../errors.js';
import type { LedgerStatus } from '../ledger/read.js';
import type { InletConfig, Pipeline } from '../model/contract.js';
import type { Logger } from '../observability/logger.js';
import { HttpError } from './http-error.js';
import { QueuedLedger, type QueuedRows } from './queued-ledger.js';
import { sniffed, sniffUpload } from './sniff.js';
import type { Spool, SpoolEntry } from './spool.js';
import { type TokenCheck, tokenAllowsPipeline } from './tokens.js';
import { entrySourceUri, uploadUri } from './upload-source.js';

export interface AcceptDeps {
  spool: Spool;
  config: InletConfig;
  pool: pg.Pool;
  logger: Logger;
  maxUploadBytes: number;
  queued: QueuedRows;
}

export interface UploadRequest {
  /**
   * The client's file name exactly as sent, folders included (`orders/2026-11.csv`): the decoded path of
   * PUT /v1/files/{name}, or the multipart part's filename. One rule for both doors: it routes the file
   * and names it in the ledger (`upload:///…`), and is checked here, but never becomes a path.
   */
  name: string;
  principal: Extract<TokenCheck, { ok: true }>;
  /**
   * The URI the ledger knows the file by, when the door names it otherwise than `upload:///<name>` (the
   * SFTP door's `sftp://<user>/inbound/<pipeline>/<name>`); kept in the spool entry's sidecar.
   */
  sourceUri?: string | undefined;
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
  /** True when an Idempotency-Key named an earlier, identical upload: nothing new was stored. */
  replayed: boolean;
  bytes: number;
  /** `queued` for a new upload; for a replay, the first upload's status now (ledger, else spool). */
  status: LedgerStatus;
}

const MAX_NAME_BYTES = 1024;
const MAX_KEY_LENGTH = 255;

/** Checks that need no body: the name, the pipeline and the token's right to it. */
export function routeUpload(deps: AcceptDeps, request: Omit<UploadRequest, 'body'>): Pipeline {
  const { name } = request;
  if (name === '' || name.endsWith('/')) {
    throw new HttpError(
      'invalid_name',
      'The upload needs a file name that does not end in "/": PUT /v1/files/{name}, or the filename of ' +
        'the multipart file part, e.g. orders/2026-11.csv.',
    );
  }
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new HttpError('invalid_name', `The file name is longer than ${MAX_NAME_BYTES} bytes; shorten it.`);
  }
  if (request.idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(request.idempotencyKey)) {
    throw new HttpError(
      'invalid_idempotency_key',
      `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} visible ASCII characters (a UUID is a good choice).`,
    );
  }
  let pipeline: Pipeline | undefined;
  try {
    pipeline = findPipeline(deps.config, name, request.pipeline);
  } catch (error) {
    if (error instanceof UsageError) throw new HttpError('unknown_pipeline', error.message);
    throw error;
  }
  if (pipeline === undefined) {
    const patterns = deps.config.pipelines.map((p) => `${p.name}: ${p.match.join(', ')}`).join('; ');
    throw new HttpError(
      'no_pipeline',
      `No pipeline matches the name "${name}" (${patterns}). Rename the file, or add ?pipeline=NAME.`,
    );
  }
  if (!tokenAllowsPipeline(request.principal, pipeline.name)) {
    throw new HttpError(
      'forbidden_pipeline',
      `The token "${request.principal.name}" may not upload to pipeline "${pipeline.name}"; ` +
        'use a token created with --pipeline for it, or one without a pipeline scope.',
    );
  }
  return pipeline;
}

/** What an Idempotency-Key was first used for; null where a key recorded before migration 006 cannot say. */
export interface KeyRecord {
  ingestionId: string;
  pipeline: string | null;
  sourceUri: string | null;
  sha256: string | null;
}

/** The request an Idempotency-Key names (used within 24 hours), if any. */
export async function findIdempotencyKey(
  pool: pg.Pool | pg.PoolClient,
  principal: UploadRequest['principal'],
  key: string,
): Promise<KeyRecord | undefined> {
  const { rows } = await pool.query<KeyRecord>(
    `SELECT ingestion_id::text AS "ingestionId", pipeline, source_uri AS "sourceUri", content_sha256 AS sha256
       FROM inlet.upload_keys
      WHERE token_id = $1 AND key = $2 AND created_at > now() - interval '24 hours'`,
    [principal.tokenId, key],
  );
  return rows[0];
}

export async function acceptUpload(deps: AcceptDeps, request: UploadRequest): Promise<Accepted> {
  const pipeline = routeUpload(deps, request);
  const key = request.idempotencyKey;
  const sourceUri = request.sourceUri ?? uploadUri(request.name);
  if (key !== undefined) {
    const earlier = await retrying(() => findIdempotencyKey(deps.pool, request.principal, key)).catch(
      (error: unknown) => {
        throw unavailable(error);
      },
    );
    // The pipeline and the name can be compared before a byte is read: a key reused for another file is
    // refused at once. The body's hash is known only once it is spooled; it is compared at publication.
    if (earlier !== undefined) refuseReuse(key, earlier, { pipeline: pipeline.name, sourceUri });
  }

  const md5 = request.contentMd5 === undefined ? undefined : createHash('md5');
  // Each layer of async iteration is a few promises per chunk: the MD5 tap is there only when asked for.
  const received = md5 === undefined ? request.body : tapped(request.body, md5);
  const body = sniffed(received, (head) => sniffUpload(head, request.name, pipeline));
  let replayOf: KeyRecord | undefined;
  let replayBytes = 0;
  const entry = await deps.spool
    .accept(body, {
      name: request.name,
      maxBytes: deps.maxUploadBytes,
      meta: {
        pipeline: pipeline.name,
        tokenId: request.principal.tokenId,
        ...(request.sourceUri === undefined ? {} : { sourceUri: request.sourceUri }),
      },
      aroundPublish: async (staged, publish) => {
        verifyChecksums(request, staged, md5);
        if (key === undefined) {
          await publish();
          deps.queued.add(pipeline, staged);
          return;
        }
        replayOf = await publishOnce(deps, request.principal, key, pipeline, staged, publish);
        if (replayOf === undefined) return;
        // Throwing here removes the staged copy: a refused reuse, like a replay, leaves nothing behind.
        refuseReuse(key, replayOf, { pipeline: pipeline.name, sourceUri, sha256: staged.sha256 });
        replayBytes = staged.size;
        throw new Replayed();
      },
    })
    .catch((error: unknown) => {
      if (error instanceof Replayed) return undefined;
      throw error;
    });
  if (entry === undefined) {
    const first = replayOf as KeyRecord;
    const status = await retrying(() => currentStatus(deps, first.ingestionId)).catch((error: unknown) => {
      throw unavailable(error);
    });
    return {
      ingestionId: first.ingestionId,
      pipeline: first.pipeline ?? pipeline.name,
      replayed: true,
      bytes: replayBytes,
      status,
    };
  }
  deps.logger.info('upload accepted', {
    ingestionId: entry.id,
    name: entry.name,
    pipeline: pipeline.name,
    bytes: entry.size,
    token: request.principal.name,
  });
  return {
    ingestionId: entry.id,
    pipeline: pipeline.name,
    replayed: false,
    bytes: entry.size,
    status: 'queued',
  };
}

/**
 * 409 `idempotency_key_reused` unless this request is the one the key was first used for: the same
 * pipeline, the same name and (once known) the same body. What a key recorded before migration 006
 * cannot say is not compared.
 */
function refuseReuse(
  key: string,
  first: KeyRecord,
  now: { pipeline: string; sourceUri: string; sha256?: string },
): void {
  const differences: string[] = [];
  if (first.pipeline !== null && first.pipeline !== now.pipeline) {
    differences.push(`the pipeline ("${now.pipeline}", first "${first.pipeline}")`);
  }
  if (first.sourceUri !== null && first.sourceUri !== now.sourceUri) {
    differences.push(`the file name (${now.sourceUri}, first ${first.sourceUri})`);
  }
  if (now.sha256 !== undefined && first.sha256 !== null && first.sha256 !== now.sha256) {
    differences.push(`the body (SHA-256 ${now.sha256}, first ${first.sha256})`);
  }
  if (differences.length === 0) return;
  throw new HttpError(
    'idempotency_key_reused',
    `The Idempotency-Key "${key}" was used within the last 24 hours for ingestion ${first.ingestionId}, ` +
      `and this request differs from that one in ${differences.join(', ')}; nothing was stored. ` +
      'A retry must repeat the first request exactly; for a new upload, send a new Idempotency-Key (a fresh UUID).',
  );
}

/** The ingestion's status now: the ledger's, or before the ledger has a row, what the spool says. */
async function currentStatus(deps: AcceptDeps, id: string): Promise<LedgerStatus> {
  const { rows } = await deps.pool.query<{ status: LedgerStatus }>(
    'SELECT status FROM inlet.ingestions WHERE id = $1',
    [id],
  );
  const status = rows[0]?.status;
  if (status !== undefined) return status;
  const state = await deps.spool.locate(id);
  return state === 'processing' ? 'processing' : state === 'failed' ? 'failed' : 'queued';
}

/** Thrown inside aroundPublish to drop the staged copy of a body that an earlier upload already stored. */
class Replayed extends Error {}

async function* tapped(
  body: AsyncIterable<Uint8Array>,
  md5: ReturnType<typeof createHash>,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    md5.update(chunk);
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
        'checksum_mismatch',
        `x-amz-checksum-sha256 says ${request.checksumSha256.trim()} but the body received has SHA-256 ${actual}: ` +
          'the upload was damaged or cut short; send it again.',
      );
    }
  }
}

/**
 * Claims the key, writes the queued ledger row and publishes the file in one transaction: either the key
 * names a file that is in the spool, or it names nothing and the file is not stored. When another request
 * holds the key, returns what it was used for; the caller compares it with this request.
 */
async function publishOnce(
  deps: AcceptDeps,
  principal: UploadRequest['principal'],
  key: string,
  pipeline: Pipeline,
  staged: SpoolEntry,
  publish: () => Promise<void>,
): Promise<KeyRecord | undefined> {
  const client = await retrying(() => deps.pool.connect()).catch((error: unknown) => {
    throw unavailable(error);
  });
  let failure: Error | undefined;
  try {
    await client.query('BEGIN');
    // A request racing on the same key waits here until the holder commits (then it reads the holder's
    // request below) or rolls back (then it claims the key itself).
    const claimed = await client.query(
      `INSERT INTO inlet.upload_keys AS k (token_id, key, ingestion_id, pipeline, source_uri, content_sha256)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (token_id, key) DO UPDATE
         SET ingestion_id = EXCLUDED.ingestion_id, pipeline = EXCLUDED.pipeline,
             source_uri = EXCLUDED.source_uri, content_sha256 = EXCLUDED.content_sha256, created_at = now()
         WHERE k.created_at <= now() - interval '24 hours'
       RETURNING ingestion_id`,
      [principal.tokenId, key, staged.id, pipeline.name, entrySourceUri(staged), staged.sha256],
    );
    if (claimed.rowCount === 0) {
      await client.query('ROLLBACK');
      // On this connection, not another from the pool: requests racing on one key each hold a connection
      // here, and waiting for a second one could exhaust the pool with all of them waiting.
      const holder = await findIdempotencyKey(client, principal, key);
      if (holder === undefined) {
        throw new HttpError(
          'idempotency_key_busy',
          `The Idempotency-Key "${key}" changed hands while this upload was recorded; nothing was stored, send it again.`,
          { headers: { 'retry-after': '1' } },
        );
      }
      return holder;
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
    'database_unavailable',
    'The database is not reachable, so an upload with an Idempotency-Key cannot be recorded; try again shortly.',
    { cause: error, headers: { 'retry-after': '5' } },
  );
}
