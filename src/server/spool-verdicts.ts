/**
 * Final ledger rows for spool entries the engine never judged: an entry no pipeline takes any more
 * (`rejected`, the file's fault) and one whose sidecar cannot be read back (`failed`, the environment's).
 * The row is written before the entry leaves the spool's live folders, so no acknowledged upload is left
 * `queued` in the ledger while its bytes sit in `failed/`.
 */

import path from 'node:path';
import type pg from 'pg';
import { pgText } from '../engine/pg-text.js';
import type { ErrorReport } from '../error-codes/index.js';
import type { SpoolEntry } from './spool.js';
import { entrySourceUri } from './upload-source.js';

/** The final verdict of a spool entry that the engine never judged (no pipeline, an unreadable entry). */
export interface SpoolVerdict {
  readonly id: string;
  readonly status: 'rejected' | 'failed';
  readonly error: ErrorReport;
  /** Used only when the entry has no ledger row yet (its queued row was never written). */
  readonly pipeline: string;
  readonly sourceUri: string;
  readonly sha256?: string;
  readonly bytes?: number;
  readonly receivedAt?: Date;
}

/**
 * Writes a spool entry's final ledger row: completes its `queued` (or `processing`, or a retried `failed`)
 * row, or inserts one when the upload's queued row never made it. A row that already holds a verdict the
 * engine reached (loaded, duplicate, superseded, rejected) is kept as it is. Throws when the ledger cannot
 * be written: the caller must then leave the entry in the spool's live folders, to be tried again.
 */
export async function recordSpoolVerdict(pool: pg.Pool, verdict: SpoolVerdict): Promise<void> {
  await pool.query(
    `INSERT INTO inlet.ingestions (id, pipeline, source_uri, content_sha256, bytes, status, received_at,
        finished_at, error_code, error_message)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now(), $8, $9)
     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, finished_at = EXCLUDED.finished_at,
        error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message
      WHERE inlet.ingestions.status IN ('queued', 'processing', 'failed')`,
    [
      verdict.id,
      verdict.pipeline,
      verdict.sourceUri,
      verdict.sha256 ?? null,
      verdict.bytes ?? null,
      verdict.status,
      verdict.receivedAt ?? null,
      verdict.error.code,
      pgText(verdict.error.message),
    ],
  );
}

/** An entry the configuration no longer routes: the pipeline it was accepted for is gone, and no match takes it. */
export function noPipelineVerdict(entry: SpoolEntry): SpoolVerdict {
  const named = entry.meta.pipeline;
  const accepted =
    named === undefined
      ? 'was accepted'
      : `was accepted for pipeline ${JSON.stringify(named)}, which the configuration no longer has,`;
  return {
    id: entry.id,
    status: 'rejected',
    error: {
      code: 'no_pipeline',
      message:
        `${JSON.stringify(entry.name)} ${accepted} and no pipeline's match takes its name, so nothing was loaded. ` +
        `Add or restore a pipeline for it, then upload it again (its bytes are kept in the spool's failed/${entry.id}).`,
    },
    pipeline: named ?? UNKNOWN_PIPELINE,
    sourceUri: entrySourceUri(entry),
    sha256: entry.sha256,
    bytes: entry.size,
    receivedAt: entry.receivedAt,
  };
}

/** An entry whose sidecar cannot be read back: what it was is unknown beyond its id and its queued row. */
export function unreadableVerdict(spoolDir: string, id: string, error: Error): SpoolVerdict {
  const cause = (error.cause as Error | undefined)?.message;
  return {
    id,
    status: 'failed',
    error: {
      code: 'spool_entry_unreadable',
      message:
        `Spool entry ${id} could not be read back (${error.message}${cause ? ` ${cause}` : ''}), so nothing was ` +
        `loaded. The spool volume may be damaged: check it, then upload the file again. What is left of the ` +
        `entry is in ${path.join(spoolDir, 'failed', id)}.`,
    },
    pipeline: UNKNOWN_PIPELINE,
    sourceUri: `spool:///failed/${id}`,
  };
}

/** No pipeline can be named so: parentheses are not allowed in pipeline names. */
const UNKNOWN_PIPELINE = '(unknown)';
