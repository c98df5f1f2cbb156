/**
 * The upload service's defaults, for the service when a caller leaves an option out and for its settings
 * when a variable is unset (docs/environment.md). Apart from service.ts, so that reading the settings, as
 * every command's start does, does not load the service (Fastify and the rest).
 */
export const DEFAULT_MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_RATE_LIMIT = 600;
export const DEFAULT_WORKERS = 2;
export const DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_RETENTION_COUNT = 10_000;
