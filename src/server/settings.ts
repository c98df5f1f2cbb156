/**
 * The upload service's settings from the environment (docs/environment.md lists them), each checked with
 * an error that names the variable and what it accepts. The one file of src/server that reads process.env;
 * `inlet serve` and `inlet dev` read the rest of theirs in src/cli/settings.ts (and src/local/settings.ts).
 */
import path from 'node:path';
import { type Env, integer, invalidSetting, port, text } from '../settings/env.js';
import { notifyTopicArnFrom } from '../settings/notify.js';
import {
  DEFAULT_MAX_UPLOAD_BYTES,
  DEFAULT_RATE_LIMIT,
  DEFAULT_RETENTION_COUNT,
  DEFAULT_RETENTION_MS,
  DEFAULT_WORKERS,
} from './defaults.js';
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_SESSIONS_PER_USER,
  HOST_KEY_FILE,
  type SftpSettings,
} from './sftp/defaults.js';

const MIB = 1024 * 1024;
const HOUR_MS = 3600 * 1000;

export interface ServerSettings {
  host: string;
  /** INLET_PORT; undefined: the default port (8080). */
  port: number | undefined;
  spoolDir: string;
  maxUploadBytes: number;
  rateLimitPerMinute: number;
  bootstrapToken: string | undefined;
  workers: number;
  minFreeBytes: number;
  retentionMs: number;
  retentionCount: number;
  /** The SNS topic told of every finished ingestion. */
  notifyTopicArn: string | undefined;
  /** The SFTP door beside the API. */
  sftp: SftpSettings;
}

/** `inlet serve` listens on every address by default; `inlet dev` passes its own default host. */
export function serverSettings(
  dataDir: string,
  env: Env = process.env,
  defaults: { readonly host: string } = { host: '0.0.0.0' },
): ServerSettings {
  return {
    host: text(env, 'INLET_HOST') ?? defaults.host,
    port: port(env, 'INLET_PORT'),
    spoolDir: spoolDirectory(dataDir, env),
    maxUploadBytes: integer(env, 'INLET_MAX_UPLOAD_BYTES', { min: 1 }) ?? DEFAULT_MAX_UPLOAD_BYTES,
    rateLimitPerMinute: integer(env, 'INLET_RATE_LIMIT', { min: 1 }) ?? DEFAULT_RATE_LIMIT,
    bootstrapToken: text(env, 'INLET_API_TOKEN'),
    workers: integer(env, 'INLET_WORKERS', { min: 1, max: 64 }) ?? DEFAULT_WORKERS,
    minFreeBytes: (integer(env, 'INLET_SPOOL_MIN_FREE_MB', { min: 0 }) ?? 256) * MIB,
    retentionMs: hours(integer(env, 'INLET_SPOOL_RETENTION_HOURS', { min: 0 })) ?? DEFAULT_RETENTION_MS,
    retentionCount: integer(env, 'INLET_SPOOL_KEEP', { min: 0 }) ?? DEFAULT_RETENTION_COUNT,
    notifyTopicArn: notifyTopicArnFrom(env),
    sftp: sftpSettings(dataDir, env),
  };
}

/** The SFTP door's: INLET_SFTP_PORT (`off` turns it off), its host key, sessions per user, idle timeout. */
export function sftpSettings(dataDir: string, env: Env = process.env): SftpSettings {
  return {
    port: sftpPort(env),
    hostKeyFile: path.resolve(text(env, 'INLET_SFTP_HOST_KEY_FILE') ?? path.join(dataDir, HOST_KEY_FILE)),
    maxSessionsPerUser:
      integer(env, 'INLET_SFTP_MAX_SESSIONS', { min: 1, max: 10_000 }) ?? DEFAULT_MAX_SESSIONS_PER_USER,
    idleTimeoutMs:
      (integer(env, 'INLET_SFTP_IDLE_TIMEOUT_SECONDS', { min: 1, max: 86_400 }) ??
        DEFAULT_IDLE_TIMEOUT_MS / 1000) * 1000,
  };
}

function sftpPort(env: Env): number | undefined | false {
  const raw = text(env, 'INLET_SFTP_PORT');
  if (raw === undefined) return undefined;
  if (raw.toLowerCase() === 'off') return false;
  if (!/^\d+$/.test(raw) || Number(raw) > 65_535) {
    throw invalidSetting('INLET_SFTP_PORT', 'a TCP port from 0 to 65535, or "off"', raw);
  }
  return Number(raw);
}

function hours(count: number | undefined): number | undefined {
  return count === undefined ? undefined : count * HOUR_MS;
}

/** INLET_SPOOL_DIR, else `spool` in the data directory; absolute. `inlet snapshot` snapshots it too. */
export function spoolDirectory(dataDir: string, env: Env = process.env): string {
  return path.resolve(text(env, 'INLET_SPOOL_DIR') ?? path.join(dataDir, 'spool'));
}
