import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { csvRow } from '../../ledger/csv-export.js';
import {
  decodeCursor,
  doorOf,
  eachReject,
  encodeCursor,
  getIngestion,
  type IngestionView,
  ingestionView,
  isIngestionId,
  LEDGER_STATUSES,
  pageIngestions,
  REJECT_CSV_HEADER,
  rejectCsvLine,
  rejectView,
} from '../../ledger/read.js';
import { type Principal, principalOf } from '../auth.js';
import { HttpError } from '../http-error.js';
import type { Spool, SpoolState } from '../spool.js';
import { entrySourceUri } from '../upload-source.js';
import { errorSchema, ingestionSchema } from './schemas.js';

export interface IngestionRoutesDeps {
  pool: pg.Pool;
  spool: Spool;
}

const MAX_LIMIT = 1000;
const MAX_REJECTS_LIMIT = 100_000;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', description: 'the ingestion id the upload answered with' } },
} as const;

export async function ingestionRoutes(app: FastifyInstance, deps: IngestionRoutesDeps): Promise<void> {
  app.get<{ Params: { id: string } }>(
    '/v1/ingestions/:id',
    {
      schema: {
        summary: 'One ingestion: status, pipeline, rows loaded and rejected, timings, error',
        tags: ['ingestions'],
        params: idParams,
        response: { 200: ingestionSchema, 401: errorSchema, 404: errorSchema },
      },
    },
    async (request) => findVisible(deps, request, request.params.id),
  );

  app.get<{ Querystring: { status?: string; pipeline?: string; limit?: number; before?: string } }>(
    '/v1/ingestions',
    {
      schema: {
        summary: 'Recent ingestions, newest first, a page at a time',
        description:
          'Ordered by the latest of finished, started and received time, then id. `next` is the cursor ' +
          'of the following page (pass it as `before`), or null on the last page.',
        tags: ['ingestions'],
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: [...LEDGER_STATUSES] },
            pipeline: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 50 },
            before: {
              type: 'string',
              maxLength: 200,
              description: 'the `next` cursor of the previous page: list the ingestions after it',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['ingestions', 'next'],
            properties: {
              ingestions: { type: 'array', items: ingestionSchema },
              next: { type: ['string', 'null'], description: 'cursor of the next page; null on the last' },
            },
          },
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { status, pipeline, limit = 50, before } = request.query;
      if (pipeline !== undefined && !allows(principal, pipeline)) {
        throw new HttpError(
          'forbidden_pipeline',
          `The token "${principal.name}" may not read pipeline "${pipeline}".`,
        );
      }
      const cursor = before === undefined ? undefined : decodeCursor(before);
      if (before !== undefined && cursor === undefined) {
        throw new HttpError(
          'invalid_cursor',
          '`before` is not a cursor this API handed out; pass the `next` of a previous page as it was.',
        );
      }
      const page = await pageIngestions(deps.pool, {
        status,
        pipeline,
        limit,
        before: cursor,
        ...(principal.pipelines === null ? {} : { pipelines: principal.pipelines }),
      });
      return {
        ingestions: page.rows.map(ingestionView),
        next: page.next === null ? null : encodeCursor(page.next),
      };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number; format?: 'csv' | 'json' } }>(
    '/v1/ingestions/:id/rejects',
    {
      schema: {
        summary: "An ingestion's rejected rows: JSON, or CSV with Accept: text/csv",
        description:
          'CSV cells that start with = + - @, tab or CR are prefixed with a quote so spreadsheets show them as text.',
        tags: ['ingestions'],
        params: idParams,
        querystring: {
          type: 'object',
          properties: {
            limit: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_REJECTS_LIMIT,
              description: 'at most this many rows (the first, by record); default all',
            },
            format: { type: 'string', enum: ['csv', 'json'], description: 'as Accept: text/csv does' },
          },
        },
        produces: ['application/json', 'text/csv'],
        response: {
          200: {
            type: 'object',
            properties: {
              ingestionId: { type: 'string' },
              rejects: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    line: { type: ['integer', 'null'] },
                    record: { type: ['integer', 'null'] },
                    column: { type: ['string', 'null'] },
                    value: { type: ['string', 'null'] },
                    reason: { type: 'string' },
                  },
                },
              },
            },
          },
          401: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const ingestion = await findVisible(deps, request, request.params.id);
      const rows: ReturnType<typeof rejectView>[] = [];
      // Inlet keeps at most the first rejects of a file, so collecting them is bounded.
      await eachReject(deps.pool, ingestion.id, request.query.limit ?? null, (row) => {
        rows.push(rejectView(row));
      });
      if (wantsCsv(request)) {
        const lines = [csvRow(REJECT_CSV_HEADER)];
        for (const r of rows) lines.push(rejectCsvLine(r));
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="rejects-${ingestion.id}.csv"`)
          .serializer((body: string) => body)
          .send(lines.join(''));
      }
      return { ingestionId: ingestion.id, rejects: rows };
    },
  );
}

function allows(principal: Principal, pipeline: string): boolean {
  return principal.pipelines === null || principal.pipelines.includes(pipeline);
}

function wantsCsv(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  const { format } = request.query as { format?: string };
  return format === undefined ? /\btext\/csv\b/i.test(accept) : format === 'csv';
}

/**
 * The ledger's view of an ingestion, or, before the ledger has it (queued while the database was away),
 * the spool's. A token scoped to other pipelines gets 404, as if the id did not exist.
 */
async function findVisible(
  deps: IngestionRoutesDeps,
  request: FastifyRequest,
  id: string,
): Promise<IngestionView> {
  const principal = principalOf(request);
  const notFound = new HttpError(
    'not_found',
    `No ingestion ${id}; list recent ones with GET /v1/ingestions.`,
  );
  if (!isIngestionId(id)) throw notFound;
  const row = await getIngestion(deps.pool, id.toLowerCase());
  if (row !== undefined) {
    if (!allows(principal, row.pipeline)) throw notFound;
    return ingestionView(row);
  }
  // Found wherever the entry has moved meanwhile: a look and a read that lost it between them answered 404 for
  // an upload just accepted and being loaded.
  const found = await deps.spool.find(id.toLowerCase());
  if (found === undefined) throw notFound;
  const { state, entry: pending } = found;
  if (state === 'done' || state === 'failed') {
    // An entry leaves processing/ only after its final ledger row is committed, so a row missing above and an
    // entry finished here means the worker finished between the two reads: the ledger now has the verdict.
    const finished = await getIngestion(deps.pool, id.toLowerCase());
    if (finished !== undefined) {
      if (!allows(principal, finished.pipeline)) throw notFound;
      return ingestionView(finished);
    }
  }
  const pipeline = pending.meta.pipeline ?? null;
  if (pipeline !== null && !allows(principal, pipeline)) throw notFound;
  return spoolView(pending.id, state, pipeline, pending.receivedAt, pending.size, entrySourceUri(pending));
}

function spoolView(
  id: string,
  state: SpoolState,
  pipeline: string | null,
  receivedAt: Date,
  bytes: number,
  /** The entry's source URI: the view keeps `source` empty, as before, but names the door. */
  entryUri: string,
): IngestionView {
  const status = state === 'incoming' ? 'queued' : state === 'processing' ? 'processing' : 'failed';
  return {
    id,
    pipeline: pipeline ?? '',
    source: '',
    status,
    rowsLoaded: 0,
    rowsRejected: 0,
    bytes,
    sha256: null,
    duplicateOf: null,
    receivedAt: receivedAt.toISOString(),
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    lagMs: null,
    ...doorOf(entryUri),
    ...(status === 'failed'
      ? {
          error: {
            code: 'not_processed',
            message: 'The file could not be processed; the server log says why.',
          },
        }
      : {}),
  };
}
