import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { type RunRecord, recentSnapshotRuns } from '../../snapshots/runs.js';
import { principalOf } from '../auth.js';
import { HttpError } from '../http-error.js';
import { errorSchema } from './schemas.js';

export interface SnapshotRoutesDeps {
  pool: pg.Pool;
}

export const MAX_SNAPSHOT_RUNS = 200;

const nullableCount = { type: ['integer', 'null'], minimum: 0 } as const;

export const snapshotRunSchema = {
  type: 'object',
  required: [
    'id',
    'trigger',
    'provider',
    'target',
    'status',
    'startedAt',
    'finishedAt',
    'snapshotId',
    'files',
    'bytes',
    'bytesUploaded',
    'pruned',
  ],
  properties: {
    id: { type: 'string', format: 'uuid' },
    trigger: { type: 'string', enum: ['schedule', 'manual'] },
    provider: { type: 'string' },
    target: { type: 'string' },
    status: { type: 'string', enum: ['running', 'succeeded', 'failed', 'skipped', 'abandoned'] },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    snapshotId: { type: ['string', 'null'] },
    files: { ...nullableCount, description: 'files in the snapshot' },
    bytes: { ...nullableCount, description: 'size of the snapshot in bytes' },
    bytesUploaded: { ...nullableCount, description: 'bytes this run sent to the target' },
    pruned: { ...nullableCount, description: 'old snapshots retention deleted' },
    error: {
      type: 'object',
      description: 'why the run failed (or was abandoned); absent otherwise',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

/** A run as the API shows it: every field present (null when not known), `error` only when there is one. */
function toView(run: RunRecord) {
  return {
    id: run.id,
    trigger: run.trigger,
    provider: run.provider,
    target: run.target,
    status: run.status,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    snapshotId: run.snapshotId ?? null,
    files: run.files ?? null,
    bytes: run.bytes ?? null,
    bytesUploaded: run.bytesUploaded ?? null,
    pruned: run.pruned ?? null,
    ...(run.errorCode === undefined
      ? {}
      : { error: { code: run.errorCode, message: run.errorMessage ?? run.errorCode } }),
  };
}

/** `GET /v1/snapshots`: the snapshot scheduler's recent runs, for the dashboard's Snapshots panel. */
export async function snapshotRoutes(app: FastifyInstance, deps: SnapshotRoutesDeps): Promise<void> {
  app.get<{ Querystring: { limit?: number } }>(
    '/v1/snapshots',
    {
      schema: {
        summary: 'Recent snapshot runs, newest first: the snapshot each made, its size and what it uploaded',
        description:
          'Reads inlet.snapshot_runs ordered by started_at. Snapshots cover the whole spool, so a token ' +
          'scoped to pipelines is refused (403 forbidden). Empty when snapshots were never set up.',
        tags: ['system'],
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: MAX_SNAPSHOT_RUNS, default: 20 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['snapshots'],
            properties: { snapshots: { type: 'array', items: snapshotRunSchema } },
          },
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (principal.pipelines !== null) {
        throw new HttpError(
          'forbidden',
          `The token "${principal.name}" is scoped to pipelines; snapshots cover the whole spool.`,
        );
      }
      const { limit = 20 } = request.query;
      try {
        const runs = await recentSnapshotRuns(deps.pool, limit);
        return { snapshots: runs.map(toView) };
      } catch (error) {
        // A database from before migration 004: no snapshots yet.
        if ((error as { code?: unknown }).code === '42P01') return { snapshots: [] };
        throw error;
      }
    },
  );
}
