/**
 * The upload API as a Fastify app: routes, authentication, rate limits, JSON errors and the OpenAPI
 * document. It holds no state of its own; the spool, the pool and the config are handed in.
 */

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, {
  type ConnectionError,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import type pg from 'pg';
import { type ErrorCode, type HttpErrorCode, httpStatusOfCode } from '../error-codes/index.js';
import { InletError } from '../errors.js';
import type { InletConfig } from '../model/contract.js';
import type { Logger } from '../observability/logger.js';
import { authenticate } from './auth.js';
import { HttpError, httpStatusOf } from './http-error.js';
import type { ServerMetrics, UploadOutcome } from './metrics.js';
import { QueuedLedger, type QueuedRows } from './queued-ledger.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { ingestionRoutes } from './routes/ingestions.js';
import { snapshotRoutes } from './routes/snapshots.js';
import { statsRoutes } from './routes/stats.js';
import { healthRoute, metricsRoute } from './routes/system.js';
import { uploadRoutes } from './routes/uploads.js';
import type { Spool } from './spool.js';
import type { TokenCache } from './token-cache.js';

export interface AppOptions {
  spool: Spool;
  config: InletConfig;
  pool: pg.Pool;
  logger: Logger;
  metrics: ServerMetrics;
  maxUploadBytes: number;
  rateLimitPerMinute: number;
  bootstrapToken?: string | undefined;
  /** Stored tokens checked lately; without it, every request reads its token from the database. */
  tokenCache?: TokenCache | undefined;
  onAccepted?: () => void;
  /**
   * Where the queued ledger rows of accepted uploads go; by default a QueuedLedger on `pool` in this thread.
   * The drain thread writes them when the workers run there, keeping the database work off this thread.
   */
  queued?: QueuedRows;
  isAccepting?: () => boolean;
  version?: string;
}

/** An upload of a large file on a slow link can take long... */
const REQUEST_TIMEOUT_MS = 60 * 60 * 1000;
/** ...but one that sends nothing for this long is gone: its socket closes and its partial file is removed. */
const IDLE_TIMEOUT_MS = 2 * 60 * 1000;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: IDLE_TIMEOUT_MS,
    // The client's name is part of the path (`/v1/files/orders/2026-11.csv`): allow long ones.
    routerOptions: { maxParamLength: 2048 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    clientErrorHandler,
    // A path that does not decode (`/v1/files/%ff.csv`) is refused before routing: in the API's error shape too.
    frameworkErrors: (error, request, reply) => {
      const status = error.statusCode ?? 400;
      const code: ErrorCode = error.code === 'FST_ERR_BAD_URL' ? 'invalid_url' : errorCode(error, status);
      if (request.url.startsWith('/v1/files')) options.metrics.upload(uploadOutcome(status, code));
      const message =
        error.code === 'FST_ERR_BAD_URL'
          ? `${error.message}: percent-encode the path as UTF-8.`
          : status >= 500
            ? 'Internal error; the server log has details.'
            : error.message;
      void (reply as FastifyReply).code(status).send({ error: { code, message } });
    },
  });
  const { logger, metrics } = options;
  const isAccepting = options.isAccepting ?? (() => true);
  const queued = options.queued ?? new QueuedLedger(options.pool, logger);
  app.addHook('onClose', () => queued.flush());

  app.decorateRequest('principal', undefined);
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const status = httpStatusOf(error);
    const code = errorCode(error, status);
    if (request.url.startsWith('/v1/files')) metrics.upload(uploadOutcome(status, code));
    if (status >= 500 && status !== 503)
      logger.error('request failed', { method: request.method, url: request.url, error });
    else if (status === 503)
      logger.warn('request refused: unavailable', { method: request.method, url: request.url, code });
    else logger.debug('request refused', { method: request.method, url: request.url, status, code });
    if (error instanceof HttpError) reply.headers(error.headers);
    // A body nobody will read keeps the socket (and a graceful close) waiting: close it after answering.
    if (!request.raw.complete) reply.header('connection', 'close');
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
        'rate_limited',
        `More than ${context.max} uploads in a minute with this token; retry in ${context.after}.`,
      ),
  });

  const systemDeps = { pool: options.pool, spool: options.spool, metrics, isAccepting };
  await app.register(async (open) => healthRoute(open, systemDeps));
  // The dashboard page is public (it holds no data); it asks for a token and reads the API below with it.
  await app.register(async (open) => dashboardRoutes(open, { logger }));
  await app.register(async (api) => {
    api.addHook('onRequest', authenticate(options.pool, options.bootstrapToken, options.tokenCache));
    await metricsRoute(api, systemDeps);
    await ingestionRoutes(api, { pool: options.pool, spool: options.spool });
    await statsRoutes(api, { pool: options.pool, spool: options.spool });
    await snapshotRoutes(api, { pool: options.pool });
    api.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    await api.register(async (uploads) =>
      uploadRoutes(uploads, {
        spool: options.spool,
        config: options.config,
        pool: options.pool,
        logger,
        maxUploadBytes: options.maxUploadBytes,
        queued,
        metrics,
        rateLimitPerMinute: options.rateLimitPerMinute,
        onAccepted: options.onAccepted ?? (() => undefined),
      }),
    );
  });
  return app;
}

/**
 * Errors Node's HTTP parser raises before a route sees the request (a body cut short of its
 * Content-Length, malformed headers) are answered in the API's own error shape too, then the
 * socket is closed, as Fastify's default handler does.
 */
function clientErrorHandler(error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { code, message } = clientError(error.code);
  const status = httpStatusOfCode(code) ?? 400;
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

function clientError(nodeCode: string | undefined): { code: HttpErrorCode; message: string } {
  switch (nodeCode) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'request_timeout', message: 'The request was not received in time; send it again.' };
    case 'HPE_HEADER_OVERFLOW':
      return {
        code: 'headers_too_large',
        message: 'The request headers are too large; send fewer or shorter headers.',
      };
    case 'HPE_INVALID_EOF_STATE':
      return {
        code: 'body_failed',
        message:
          'The connection ended before the body did (fewer bytes than Content-Length); nothing was stored, send it again.',
      };
    default:
      return { code: 'bad_request', message: `The request is not valid HTTP/1.1 (${nodeCode}).` };
  }
}

function errorCode(error: Error, status: number): ErrorCode {
  if (error instanceof InletError) return error.code;
  const code = (error as { code?: unknown }).code;
  if (status === 413) return 'too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 400 && code === 'FST_ERR_VALIDATION') return 'invalid_request';
  if (status === 404) return 'not_found';
  return status >= 500 ? 'internal' : 'bad_request';
}

function uploadOutcome(status: number, code: ErrorCode): UploadOutcome {
  switch (status) {
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 409:
      return 'idempotency_key_reused';
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
