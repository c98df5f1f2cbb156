/**
 * The upload service's settings from the environment (docs/environment.md lists them), each
 * checked with an error that names the variable and what it accepts.
 */
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_RATE_LIMIT } from './service.js';

export interface ServerSettings {
  host: string;
  spoolDir: string;
  maxUploadBytes: number;
  rateLimitPerMinute: number;
  bootstrapToken: string | undefined;
  workers: number;
  minFreeBytes: number;
  retentionMs: number;
  retentionCount: number;
}

type Env = Readonly<Record<string, string | undefined>>;

export function serverSettings(
  dataDir: string,
  env: Env = process.env,
  defaultHost = '127.0.0.1',
): ServerSettings {
  return {
    host: nonEmpty(env.INLET_HOST) ?? defaultHost,
    spoolDir: path.resolve(nonEmpty(env.INLET_SPOOL_DIR) ?? path.join(dataDir, 'spool')),
    maxUploadBytes: optionalInteger(env, 'INLET_MAX_UPLOAD_BYTES', 1) ?? DEFAULT_MAX_UPLOAD_BYTES,
    rateLimitPerMinute: optionalInteger(env, 'INLET_RATE_LIMIT', 1) ?? DEFAULT_RATE_LIMIT,
    bootstrapToken: nonEmpty(env.INLET_API_TOKEN),
    workers: optionalInteger(env, 'INLET_WORKERS', 1, 64) ?? 2,
    minFreeBytes: (optionalInteger(env, 'INLET_SPOOL_MIN_FREE_MB', 0) ?? 256) * 1024 * 1024,
    retentionMs: (optionalInteger(env, 'INLET_SPOOL_RETENTION_HOURS', 0) ?? 7 * 24) * 3600 * 1000,
    retentionCount: optionalInteger(env, 'INLET_SPOOL_KEEP', 0) ?? 10_000,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function optionalInteger(
  env: Env,
  name: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(
      'invalid_setting',
      `${name} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got "${raw}".`,
    );
  }
  return value;
}
