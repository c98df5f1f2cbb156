import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
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

export async function metricsRoute(app: FastifyInstance, deps: SystemRoutesDeps): Promise<void> {
  app.get(
    '/metrics',
    { schema: { summary: 'Metrics in Prometheus text format', tags: ['system'], produces: ['text/plain'] } },
    async (_request, reply) =>
      reply
        .type(deps.metrics.contentType)
        .serializer((body: string) => body)
        .send(await deps.metrics.text()),
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
