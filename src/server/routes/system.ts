import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { principalOf } from '../auth.js';
import type { ServerMetrics } from '../metrics.js';
import type { Spool } from '../spool.js';

export interface SystemRoutesDeps {
  pool: pg.Pool;
  spool: Spool;
  metrics: ServerMetrics;
  /** False once shutdown began: the load balancer should stop sending work. */
  isAccepting: () => boolean;
}

const HEALTH_TIMEOUT_MS = 2000;

/** `/healthz` is public (load balancers and systemd probes carry no token); `/metrics` is not. */
export async function healthRoute(app: FastifyInstance, deps: SystemRoutesDeps): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness and readiness (no token needed)',
        tags: ['system'],
        security: [],
        response: {
          200: { type: 'object', additionalProperties: true },
          503: { type: 'object', additionalProperties: true },
        },
      },
    },
    async (_request, reply) => {
      const [database, spool] = await Promise.all([
        withTimeout(deps.pool.query('SELECT 1').then(() => 'ok')),
        withTimeout(deps.spool.depth()),
      ]);
      const accepting = deps.isAccepting();
      const ready = database === 'ok' && typeof spool === 'object' && accepting;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ok' : 'unavailable',
        accepting,
        database: database === 'ok' ? 'ok' : `unreachable: ${database}`,
        spool: typeof spool === 'object' ? spool : `unreadable: ${spool}`,
      });
    },
  );
}

/**
 * `/metrics` answers each token with what it may see: an unscoped token every series; a token scoped to
 * pipelines only the series labelled with those pipelines, and none of the service-wide ones (uploads by
 * outcome, bytes, spool depth, workers, process), which add up other pipelines' activity.
 */
export async function metricsRoute(app: FastifyInstance, deps: SystemRoutesDeps): Promise<void> {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Metrics in Prometheus text format, as far as the token may see',
        description:
          'A token without a pipeline scope (and INLET_API_TOKEN) sees every series. A token scoped to ' +
          'pipelines sees only the per-pipeline series of those pipelines (inlet_files_total, ' +
          'inlet_rows_loaded_total, inlet_rows_rejected_total, inlet_ingest_duration_seconds, ' +
          'inlet_lag_seconds) and no service-wide series.',
        tags: ['system'],
        produces: ['text/plain'],
      },
    },
    async (request, reply) =>
      reply
        .type(deps.metrics.contentType)
        .serializer((body: string) => body)
        .send(await deps.metrics.text(principalOf(request).pipelines)),
  );
}

/** A probe that hangs is as bad as one that fails: give up, and say so. */
async function withTimeout<T>(work: Promise<T>): Promise<T | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${HEALTH_TIMEOUT_MS} ms`), HEALTH_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work.catch((error: unknown) => (error as Error).message), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
