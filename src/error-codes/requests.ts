import type { ErrorCodeInfo, ErrorCodeSection } from './entry.js';

/**
 * Refusals of a request to the upload API (`inlet serve`, `inlet dev`) or the AWS deployment's
 * presign/status API: answered `{"error": {"code", "message"}}` with the status given here.
 */
export const requestCodes = {
  title: 'API requests',
  intro:
    "The upload API ([http-api.md](http-api.md)) and the AWS deployment's upload and status API " +
    '([deploy-aws.md](deploy-aws.md)) refuse a request with `{"error": {"code", "message"}}` and the status ' +
    'below; nothing of a refused upload is stored. The message says what to do.',
  codes: {
    invalid_name: {
      meaning: 'The file name is empty, ends in `/`, is too long, or (AWS upload API) is not a usable key.',
      action: 'Send the file under a name that the message accepts.',
      http: 400,
      doors: ['upload', 'lambda'],
    },
    invalid_idempotency_key: {
      meaning: 'The `Idempotency-Key` is not 1 to 255 visible ASCII characters.',
      action: 'Send a UUID as the key.',
      http: 400,
      doors: ['upload'],
    },
    checksum_mismatch: {
      meaning: '`Content-MD5` or `x-amz-checksum-sha256` does not match the body received.',
      action: 'Send the file again; nothing was stored.',
      http: 400,
      doors: ['upload'],
    },
    missing_file: {
      meaning: 'A multipart request has no file part.',
      action: 'Add one, e.g. `curl -F file=@orders.csv`.',
      http: 400,
      doors: ['upload'],
    },
    body_failed: {
      meaning: 'The body ended before its `Content-Length`, or could not be read.',
      action: 'Send it again; nothing was stored.',
      http: 400,
      doors: ['upload'],
    },
    invalid_cursor: {
      meaning: '`before` is not a cursor the API handed out.',
      action: 'Pass the `next` of a previous page unchanged.',
      http: 400,
      doors: ['upload'],
    },
    invalid_request: {
      meaning: "A query, header or body fails the route's schema.",
      action: 'Fix the request as the message says (`GET /v1/openapi.json` describes every route).',
      http: 400,
      doors: ['upload', 'lambda'],
    },
    invalid_url: {
      meaning: 'The path does not decode as UTF-8.',
      action: 'Percent-encode the path as UTF-8.',
      http: 400,
      doors: ['upload'],
    },
    bad_request: {
      meaning: 'The request is malformed in another way, including requests that are not valid HTTP/1.1.',
      action: 'Fix the client.',
      http: 400,
      doors: ['upload'],
    },
    missing_token: {
      meaning: 'The request has no bearer token (answered with `WWW-Authenticate`).',
      action: 'Send `Authorization: Bearer <token>`; `inlet tokens create` makes one.',
      http: 401,
      doors: ['upload'],
    },
    invalid_token: {
      meaning: 'The bearer token is not one Inlet issued.',
      action: 'Use a token from `inlet tokens create`.',
      http: 401,
      doors: ['upload'],
    },
    revoked_token: {
      meaning: 'The bearer token was revoked.',
      action: 'Ask for a new token.',
      http: 401,
      doors: ['upload'],
    },
    expired_token: {
      meaning: 'The bearer token has expired.',
      action: 'Ask for a new token.',
      http: 401,
      doors: ['upload'],
    },
    forbidden_pipeline: {
      meaning: 'The token is scoped to other pipelines.',
      action: 'Use a token for this pipeline, or upload to one the token allows.',
      http: 403,
      doors: ['upload'],
    },
    forbidden: {
      meaning: 'A token scoped to pipelines asked for service-wide data (`/v1/snapshots`).',
      action: 'Use a token for every pipeline.',
      http: 403,
      doors: ['upload'],
    },
    unknown_caller: {
      meaning:
        'A request to the AWS upload API names no IAM role or user, so its upload cannot be given a key under `clients/<caller>/`.',
      action: 'Sign the request (SigV4) with the credentials of an IAM role or user.',
      http: 403,
      doors: ['lambda'],
    },
    not_found: {
      meaning: 'No such route, or no such ingestion or token (or none the token may see).',
      action: 'Check the id: `inlet ingestions`, `GET /v1/ingestions` and `inlet tokens list` list them.',
      http: 404,
      doors: ['upload', 'cli', 'lambda'],
    },
    request_timeout: {
      meaning: 'The request was not received in time.',
      action: 'Send it again, over a faster link or in smaller files.',
      http: 408,
      doors: ['upload'],
    },
    idempotency_key_reused: {
      meaning: 'The `Idempotency-Key` was used in the last 24 hours for a different pipeline, name or body.',
      action: 'Send a new key for a new upload.',
      http: 409,
      doors: ['upload'],
    },
    too_large: {
      meaning:
        'The upload is over `INLET_MAX_UPLOAD_BYTES`: decided from `Content-Length` before a byte of the body is read, or as soon as a chunked body crosses it.',
      action: 'Split the file or compress it.',
      http: 413,
      doors: ['upload'],
    },
    unsupported_media_type: {
      meaning:
        "The content is not the pipeline's format (a PNG sent as orders.csv, sniffed from the first bytes after decompression), compressed bytes do not decompress, or `POST /v1/files` is not multipart.",
      action: 'Send the right file, or the right request (`PUT /v1/files/{name}` for a raw body).',
      http: 415,
      doors: ['upload'],
    },
    rate_limited: {
      meaning: 'More than `INLET_RATE_LIMIT` uploads a minute from one token (answered with `Retry-After`).',
      action: 'Wait as `Retry-After` says, then send again.',
      http: 429,
      doors: ['upload'],
    },
    headers_too_large: {
      meaning: 'The request headers are too large.',
      action: 'Send fewer or shorter headers.',
      http: 431,
      doors: ['upload'],
    },
    io_failed: {
      meaning: 'Writing to or moving in the spool failed (a disk error).',
      action: 'Check the spool volume (INLET_SPOOL_DIR); the upload was not stored, send it again.',
      http: 500,
      doors: ['upload'],
    },
    misconfigured: {
      meaning: 'An AWS API function lacks a setting it needs (e.g. INLET_INBOX_BUCKET).',
      action: 'Deploy the stack again (`npm run synth`, `cdk deploy`); see deploy-aws.md.',
      http: 500,
      doors: ['lambda'],
    },
    spool_full: {
      meaning: 'The spool volume is full or below `INLET_SPOOL_MIN_FREE_MB` (nothing is left half-written).',
      action: 'Try again later; operators: free space or grow the volume.',
      http: 503,
      doors: ['upload'],
    },
    database_unavailable: {
      meaning: 'The database is needed (tokens, idempotency) and unreachable (answered with `Retry-After`).',
      action: 'Try again shortly.',
      http: 503,
      doors: ['upload'],
    },
    idempotency_key_busy: {
      meaning:
        'The `Idempotency-Key` changed hands while this upload was recorded (answered with `Retry-After`).',
      action: 'Send it again; nothing was stored.',
      http: 503,
      doors: ['upload'],
    },
    not_processing: {
      meaning:
        'A worker tried to finish a spool entry that is no longer in processing/ (another process moved it).',
      action: 'Nothing: the other process settles it. If it repeats, check that one spool has one server.',
      doors: ['upload'],
    },
    bad_entry: {
      meaning: 'A spool entry id or sidecar is not valid.',
      action: 'Check the spool volume; the entry is moved to failed/.',
      doors: ['upload'],
    },
  },
} as const satisfies ErrorCodeSection<Record<string, ErrorCodeInfo>>;
