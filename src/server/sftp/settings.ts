/**
 * The SFTP door's settings (docs/environment.md), read from the environment it is handed: the upload
 * service's settings module (src/server/settings.ts) hands it `process.env`.
 */
import path from 'node:path';
import { type Env, integer, invalidSetting, text } from '../../settings/env.js';

export const DEFAULT_SFTP_PORT = 2222;
export const HOST_KEY_FILE = 'sftp_host_ed25519_key';

export interface SftpSettings {
  /** INLET_SFTP_PORT: false when `off`; undefined for the default (2222, or a free port under `inlet dev`). */
  port: number | undefined | false;
  /** INLET_SFTP_HOST_KEY_FILE, else `sftp_host_ed25519_key` in the data directory; absolute. */
  hostKeyFile: string;
  /** INLET_SFTP_MAX_SESSIONS: connections one user may hold at once. */
  maxSessionsPerUser: number;
  /** INLET_SFTP_IDLE_TIMEOUT_SECONDS: a connection with no request for this long is closed. */
  idleTimeoutMs: number;
}

export const DEFAULT_MAX_SESSIONS_PER_USER = 10;
export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60 * 1000;

export function sftpSettings(dataDir: string, env: Env): SftpSettings {
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
