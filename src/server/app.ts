/**
 * The upload API as a Fastify app: routes, authentication, rate limits, JSON errors and the OpenAPI
 * document. It holds no state of its own; the spool, the pool and the config are handed in.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { InletConfig } from '../engine/contract.js';
import { InletError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { authenticate } from './auth.js';
import { HttpError, httpStatusOf } from './http-error.js';
import type { ServerMetrics, UploadOutcome } from './metrics.js';
import { ingestionRoutes } from './routes/ingestions.js';
import { healthRoute, metricsRoute } from './routes/system.js';
import { uploadRoutes } from './routes/uploads.js';
import type { Spool } from './spool.js';

export interface AppOptions {
  spool: Spool;
  config: InletConfig;
  pool: pg.Pool;
  logger: Logger;
  metrics: ServerMetrics;
  maxUploadBytes: number;
  rateLimitPerMinute: number;
  bootstrapToken?: string | undefined;
  onAccepted?: () => void;
  isAccepting?: () => boolean;
  version?: string;
}

/** An upload of a large file on a slow link can take long; idle connections still time out. */
const REQUEST_TIMEOUT_MS = 60 * 60 * 1000;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // The client's name is part of the path (`/v1/files/orders/2026-11.csv`): allow long ones.
    routerOptions: { maxParamLength: 2048 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  const { logger, metrics } = options;
  const isAccepting = options.isAccepting ?? (() => true);

  app.decorateRequest('principal', undefined);
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const status = httpStatusOf(error);
    const code = errorCode(error, status);
    if (request.url.startsWith('/v1/files')) metrics.upload(uploadOutcome(status, code));
    if (status >= 500) logger.error('request failed', { method: request.method, url: request.url, error });
    else logger.debug('request refused', { method: request.method, url: request.url, status, code });
    if (error instanceof HttpError) reply.headers(error.headers);
    // A body nobody will read would otherwise keep the socket busy: close it after answering.
    if (status === 413 || (status === 400 && code === 'body_failed')) reply.header('connection', 'close');
    const message =
      status >= 500 && !(error instanceof InletError)
        ? 'Internal error; the server log has details.'
        : error.message;
    return reply.code(status).send({ error: { code, message } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'not_found',
        message: `No route ${request.method} ${request.url.split('?')[0]}; see GET /v1/openapi.json.`,
      },
    }),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Inlet upload API',
        version: options.version ?? '0.1.0',
        description: 'Send files; Inlet validates them and loads them into PostgreSQL exactly once.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      tags: [{ name: 'uploads' }, { name: 'ingestions' }, { name: 'system' }],
    },
  });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new HttpError(
        429,
        'rate_limited',
        `More than ${context.max} uploads in a minute with this token; retry in ${context.after}.`,
      ),
  });

  const systemDeps = { pool: options.pool, spool: options.spool, metrics, isAccepting };
  await app.register(async (open) => healthRoute(open, systemDeps));
  await app.register(async (api) => {
    api.addHook('onRequest', authenticate(options.pool, options.bootstrapToken));
    await metricsRoute(api, systemDeps);
    await ingestionRoutes(api, { pool: options.pool, spool: options.spool });
    api.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    await api.register(async (uploads) =>
      uploadRoutes(uploads, {
        spool: options.spool,
        config: options.config,
        pool: options.pool,
        logger,
        maxUploadBytes: options.maxUploadBytes,
        metrics,
        rateLimitPerMinute: options.rateLimitPerMinute,
        onAccepted: options.onAccepted ?? (() => undefined),
      }),
    );
  });
  return app;
}

function errorCode(error: Error, status: number): string {
  if (error instanceof InletError) return error.code;
  const code = (error as { code?: unknown }).code;
  if (status === 413) return 'too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 400 && code === 'FST_ERR_VALIDATION') return 'invalid_request';
  if (status === 404) return 'not_found';
  return status >= 500 ? 'internal' : 'bad_request';
}

function uploadOutcome(status: number, code: string): UploadOutcome {
  switch (status) {
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 413:
      return 'too_large';
    case 415:
      return 'unsupported_media_type';
    case 422:
      return 'no_pipeline';
    case 429:
      return 'rate_limited';
    case 503:
      return code === 'spool_full' ? 'spool_full' : 'unavailable';
    default:
      return status >= 500 ? 'unavailable' : 'bad_request';
  }
}
