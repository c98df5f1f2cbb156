import multipart from '@fastify/multipart';
import type {} from '@fastify/rate-limit';
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AcceptDeps, type Accepted, acceptUpload } from '../accept.js';
import { principalOf } from '../auth.js';
import { HttpError } from '../http-error.js';
import type { ServerMetrics } from '../metrics.js';
import { errorSchema } from './schemas.js';

export interface UploadRoutesDeps extends AcceptDeps {
  metrics: ServerMetrics;
  rateLimitPerMinute: number;
  /** Called after a new file is durable: wakes an idle worker. */
  onAccepted: () => void;
}

/** Room for the multipart envelope (boundaries, part headers) around a file at the size limit. */
const MULTIPART_OVERHEAD = 64 * 1024;

const acceptedSchema = {
  type: 'object',
  required: ['ingestionId', 'status'],
  properties: {
    ingestionId: { type: 'string', format: 'uuid' },
    status: {
      type: 'string',
      enum: ['queued', 'processing', 'loaded', 'duplicate', 'superseded', 'rejected', 'failed'],
    },
    pipeline: { type: 'string' },
    bytes: { type: 'integer' },
    replayed: { type: 'boolean' },
  },
} as const;

const uploadHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      description:
        'Names one request, per token, for 24 hours. The same request again (same pipeline, name and body) ' +
        'answers 202 with the first ingestion, `replayed: true` and its status now, and stores nothing; the ' +
        'key reused for a different pipeline, name or body is 409 `idempotency_key_reused`.',
    },
    'content-md5': { type: 'string', description: 'Base64 MD5 of the body; a mismatch is 400.' },
    'x-amz-checksum-sha256': {
      type: 'string',
      description: 'Base64 SHA-256 of the body; a mismatch is 400.',
    },
  },
} as const;

const uploadResponses = {
  202: {
    description:
      'The file is durable in the spool and queued; or, for a replayed Idempotency-Key, the first ' +
      "upload's ingestion with its status now.",
    ...acceptedSchema,
  },
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  409: {
    description: 'idempotency_key_reused: the Idempotency-Key named a different request; use a new key.',
    ...errorSchema,
  },
  413: errorSchema,
  415: errorSchema,
  422: errorSchema,
  429: errorSchema,
  503: errorSchema,
} as const;

/**
 * The upload routes live in their own encapsulated context: their bodies are never parsed by Fastify
 * (a raw PUT of a .json file must reach the spool byte for byte), and only here is multipart registered.
 */
export async function uploadRoutes(app: FastifyInstance, deps: UploadRoutesDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  await app.register(multipart, { throwFileSizeLimit: true });
  // Multipart registered its own parser; the pass-through above keeps every other type raw.

  const rateLimit = {
    max: deps.rateLimitPerMinute,
    timeWindow: '1 minute',
    hook: 'preHandler' as const,
    keyGenerator: (request: FastifyRequest) => principalOf(request).tokenId,
  };

  app.put<{ Params: { '*': string }; Querystring: { pipeline?: string } }>(
    '/v1/files/*',
    {
      config: { rateLimit },
      schema: {
        summary: 'Upload a file as the raw request body',
        description:
          'Streams the body into the spool. Answers 202 only once the file is durable (fsync and rename); ' +
          'the worker then loads it. The name routes the file to a pipeline, as `match` in the config says.',
        tags: ['uploads'],
        params: { type: 'object', properties: { '*': { type: 'string', description: 'the file name' } } },
        querystring: {
          type: 'object',
          properties: {
            pipeline: { type: 'string', description: 'route to this pipeline whatever the name' },
          },
        },
        headers: uploadHeaders,
        consumes: ['application/octet-stream', 'text/csv', 'application/json', 'application/gzip'],
        response: uploadResponses,
      },
    },
    async (request, reply) => {
      refuseDeclaredOversize(request, deps.maxUploadBytes);
      const accepted = await acceptUpload(deps, {
        ...uploadMeta(request),
        name: request.params['*'],
        pipeline: request.query.pipeline,
        body: request.raw,
      });
      return answer(reply, deps, accepted);
    },
  );

  app.post<{ Querystring: { pipeline?: string } }>(
    '/v1/files',
    {
      config: { rateLimit },
      schema: {
        summary: 'Upload a file as multipart/form-data',
        description:
          'The first file part is stored. Its filename, folders included (`orders/2026-11.csv`), is the ' +
          "file's name under the same rule as PUT /v1/files/{name}: it routes the file and names it in the " +
          'ledger, and is never used as a path. Answers as PUT /v1/files/{name}.',
        tags: ['uploads'],
        querystring: {
          type: 'object',
          properties: {
            pipeline: { type: 'string', description: 'route to this pipeline whatever the name' },
          },
        },
        headers: uploadHeaders,
        consumes: ['multipart/form-data'],
        response: uploadResponses,
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new HttpError(
          'unsupported_media_type',
          'POST /v1/files takes multipart/form-data with one file part; to send the raw bytes use PUT /v1/files/{name}.',
        );
      }
      refuseDeclaredOversize(request, deps.maxUploadBytes + MULTIPART_OVERHEAD);
      const part = await request.file({
        // busboy keeps only the base name unless told otherwise; the name rule is PUT's, folders included.
        preservePath: true,
        limits: { fileSize: deps.maxUploadBytes + 1, files: 1, fields: 20 },
      });
      if (part === undefined) {
        throw new HttpError(
          'missing_file',
          'The multipart body has no file part: add one, e.g. curl -F file=@orders.csv.',
        );
      }
      const accepted = await acceptUpload(deps, {
        ...uploadMeta(request),
        name: part.filename,
        pipeline: request.query.pipeline,
        body: part.file,
      });
      return answer(reply, deps, accepted);
    },
  );
}

/** 413 from the declared length alone, before a byte of the body is read. */
function refuseDeclaredOversize(request: FastifyRequest, limit: number): void {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    throw new HttpError(
      'too_large',
      `The upload is ${declared} bytes, over the limit of ${limit} bytes (INLET_MAX_UPLOAD_BYTES); split the file or compress it.`,
      { headers: { connection: 'close' } },
    );
  }
}

function uploadMeta(request: FastifyRequest) {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return {
    principal: principalOf(request),
    idempotencyKey: header('idempotency-key'),
    contentMd5: header('content-md5'),
    checksumSha256: header('x-amz-checksum-sha256'),
  };
}

function answer(reply: FastifyReply, deps: UploadRoutesDeps, accepted: Accepted) {
  // A replay stored nothing: its bytes are not counted again.
  if (accepted.replayed) deps.metrics.upload('replayed');
  else deps.metrics.upload('accepted', accepted.bytes);
  if (!accepted.replayed) deps.onAccepted();
  return reply.code(202).header('location', `/v1/ingestions/${accepted.ingestionId}`).send({
    ingestionId: accepted.ingestionId,
    status: accepted.status,
    pipeline: accepted.pipeline,
    bytes: accepted.bytes,
    replayed: accepted.replayed,
  });
}
