/**
 * The ledger's record of a hand-over: a `queued` row under an id derived from the object's identity, so every
 * delivery of the same event (SQS redelivers, Lambda retries) names the same ingestion, and the runner loads
 * under that id. The row is written in the transaction that starts the runner: a runner that could not be
 * started leaves no row, and the event is delivered again.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { InletError } from '../errors.js';
import type { Pipeline } from '../model/contract.js';
import type { HandOver, HandOverRequest } from './hand-over.js';

/**
 * A queued hand-over older than this whose runner never wrote a verdict (a task that was stopped, a
 * container that ran out of memory) is handed over again when its event comes back.
 */
export const STALE_HAND_OVER_MS = 60 * 60 * 1000;

export interface HandedObject {
  readonly uri: string;
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly etag?: string;
  readonly size: number;
}

/** The ledger row's first eight columns: id, pipeline, source_uri, version_id, etag, bytes, target_table, mode. */
function rowIdentity(ingestionId: string, pipeline: Pipeline, object: HandedObject): unknown[] {
  return [
    ingestionId,
    pipeline.name,
    object.uri,
    object.versionId ?? null,
    object.etag ?? null,
    object.size,
    `${pipeline.table.schema}.${pipeline.table.name}`,
    pipeline.mode,
  ];
}

/** A UUID (version 8, name-based) from the pipeline and the object's identity. */
export function handOverId(pipeline: Pipeline, object: HandedObject): string {
  const hex = createHash('sha256')
    .update(
      [
        'inlet-hand-over',
        pipeline.name,
        object.uri,
        object.versionId ?? '',
        object.etag ?? '',
        String(object.size),
      ].join('\u0000'),
    )
    .digest('hex');
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export type HandOverOutcome =
  /** A runner was started now. */
  | { readonly kind: 'started'; readonly ingestionId: string; readonly runId: string }
  /** An earlier delivery handed it over (or its runner already settled it): nothing more to do. */
  | { readonly kind: 'already'; readonly ingestionId: string; readonly status: string };

/**
 * Records the hand-over and starts the runner, once per object identity: a second delivery finds the row
 * and starts nothing, unless the first runner failed or went silent for STALE_HAND_OVER_MS.
 */
export async function handOverOnce(
  pool: pg.Pool,
  pipeline: Pipeline,
  object: HandedObject,
  handOver: HandOver,
  reason: string,
): Promise<HandOverOutcome> {
  const ingestionId = handOverId(pipeline, object);
  const client = await pool.connect();
  let began = false;
  try {
    await client.query('BEGIN');
    began = true;
    const existing = await client.query<{ status: string; stale: boolean; attempt: number | null }>(
      `SELECT status, (details->'handOver'->>'attempt')::int AS attempt, coalesce(received_at, now()) < now() - make_interval(secs => $2::double precision / 1000) AS stale
         FROM inlet.ingestions WHERE id = $1 FOR UPDATE`,
      [ingestionId, STALE_HAND_OVER_MS],
    );
    const row = existing.rows[0];
    if (row !== undefined && row.status !== 'failed' && !(row.status === 'queued' && row.stale)) {
      await client.query('ROLLBACK');
      began = false;
      return { kind: 'already', ingestionId, status: row.status };
    }
    const attempt = (row?.attempt ?? 0) + 1;
    const details = {
      handOver: { ranOn: handOver.ranOn, from: 'lambda', reason, attempt, at: new Date().toISOString() },
    };
    await client.query(
      `INSERT INTO inlet.ingestions (id, pipeline, source_uri, version_id, etag, bytes, status, target_table, mode,
          received_at, details)
       VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, now(), $9)
       ON CONFLICT (id) DO UPDATE SET status = 'queued', received_at = now(), error_code = NULL,
          error_message = NULL, details = EXCLUDED.details`,
      [...rowIdentity(ingestionId, pipeline, object), JSON.stringify(details)],
    );
    const request: HandOverRequest = {
      bucket: object.bucket,
      key: object.key,
      uri: object.uri,
      ...(object.versionId === undefined ? {} : { versionId: object.versionId }),
      ...(object.etag === undefined ? {} : { etag: object.etag }),
      ingestionId,
      pipeline: pipeline.name,
      attempt,
      reason,
    };
    const runId = await handOver.start(request);
    await client.query(
      `UPDATE inlet.ingestions SET details = jsonb_set(details, '{handOver,runId}', to_jsonb($2::text)) WHERE id = $1`,
      [ingestionId, runId],
    );
    await client.query('COMMIT');
    began = false;
    return { kind: 'started', ingestionId, runId };
  } finally {
    if (began) await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}

/** A `rejected` row (code object_too_large) for an object past every limit, under its hand-over id. */
export async function recordTooLarge(
  pool: pg.Pool,
  pipeline: Pipeline,
  object: HandedObject,
  message: string,
): Promise<string> {
  const ingestionId = handOverId(pipeline, object);
  const refusal = new InletError('object_too_large', message);
  await pool.query(
    `INSERT INTO inlet.ingestions (id, pipeline, source_uri, version_id, etag, bytes, status, target_table, mode,
        received_at, finished_at, error_code, error_message)
     VALUES ($1, $2, $3, $4, $5, $6, 'rejected', $7, $8, now(), now(), $9, $10)
     ON CONFLICT (id) DO NOTHING`,
    [...rowIdentity(ingestionId, pipeline, object), refusal.code, refusal.message],
  );
  return ingestionId;
}
