import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { LEDGER_STATUSES } from '../../ledger/read.js';
import { ledgerStats, MAX_STATS_MINUTES } from '../../ledger/stats.js';
import { principalOf } from '../auth.js';
import { HttpError } from '../http-error.js';
import type { Spool } from '../spool.js';
import { errorSchema } from './schemas.js';

export interface StatsRoutesDeps {
  pool: pg.Pool;
  spool: Spool;
}

const count = { type: 'integer', minimum: 0 } as const;
const byStatus = {
  type: 'object',
  description: 'files by ingestion status',
  required: [...LEDGER_STATUSES],
  properties: Object.fromEntries(LEDGER_STATUSES.map((status) => [status, count])),
} as const;
const countsProperties = {
  files: count,
  rowsLoaded: count,
  rowsRejected: count,
  rejectRatio: {
    type: ['number', 'null'],
    description: 'rowsRejected / (rowsLoaded + rowsRejected); null when there were no rows',
  },
  byStatus,
} as const;

export const statsSchema = {
  type: 'object',
  required: ['from', 'to', 'bucketSeconds', 'buckets', 'pipelines', 'totals', 'spool'],
  properties: {
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    bucketSeconds: { type: 'integer' },
    buckets: {
      type: 'array',
      description: 'files finished per bucket, oldest first, empty buckets included',
      items: {
        type: 'object',
        required: ['start', 'files', 'rowsLoaded', 'rowsRejected', 'rowsPerSecond', 'filesPerMinute'],
        properties: {
          start: { type: 'string', format: 'date-time' },
          files: count,
          rowsLoaded: count,
          rowsRejected: count,
          rowsPerSecond: { type: 'number' },
          filesPerMinute: { type: 'number' },
        },
      },
    },
    pipelines: {
      type: 'array',
      items: {
        type: 'object',
        required: ['pipeline', 'files', 'rowsLoaded', 'rowsRejected', 'rejectRatio', 'byStatus'],
        properties: { pipeline: { type: 'string' }, ...countsProperties },
      },
    },
    totals: {
      type: 'object',
      required: ['files', 'rowsLoaded', 'rowsRejected', 'rejectRatio', 'byStatus'],
      properties: countsProperties,
    },
    spool: {
      description:
        'files in the spool now, by state; null for a token scoped to pipelines (the spool is shared)',
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['incoming', 'processing', 'done', 'failed'],
          properties: { incoming: count, processing: count, done: count, failed: count },
        },
      ],
    },
  },
} as const;

/** `GET /v1/stats`: what the dashboard's charts draw. */
export async function statsRoutes(app: FastifyInstance, deps: StatsRoutesDeps): Promise<void> {
  app.get<{ Querystring: { minutes?: number; pipeline?: string } }>(
    '/v1/stats',
    {
      schema: {
        summary: 'Throughput over a recent window: files and rows per bucket, reject ratio per pipeline',
        description:
          'Counts the files that finished (loaded, duplicate, superseded, rejected, failed) in the window, ' +
          'each in the bucket of its finished_at. The window is rounded out to whole buckets of ' +
          '`bucketSeconds` (at most 60 buckets). A token scoped to pipelines sees only those.',
        tags: ['ingestions'],
        querystring: {
          type: 'object',
          properties: {
            minutes: { type: 'integer', minimum: 1, maximum: MAX_STATS_MINUTES, default: 60 },
            pipeline: { type: 'string' },
          },
        },
        response: { 200: statsSchema, 400: errorSchema, 401: errorSchema, 403: errorSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { minutes = 60, pipeline } = request.query;
      const scoped = principal.pipelines !== null;
      if (pipeline !== undefined && scoped && !principal.pipelines?.includes(pipeline)) {
        throw new HttpError(
          'forbidden_pipeline',
          `The token "${principal.name}" may not read pipeline "${pipeline}".`,
        );
      }
      const [stats, spool] = await Promise.all([
        ledgerStats(deps.pool, {
          minutes,
          pipeline,
          ...(principal.pipelines === null ? {} : { pipelines: principal.pipelines }),
        }),
        scoped ? null : deps.spool.depth(),
      ]);
      return { ...stats, spool };
    },
  );
}
