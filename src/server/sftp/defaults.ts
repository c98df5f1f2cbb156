/**
 * The SFTP door's settings and their defaults (docs/environment.md); src/server/settings.ts reads them
 * from the environment.
 */

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
