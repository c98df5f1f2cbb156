/**
 * The SFTP door as the upload service starts it: the host key, the SSH server, and the accept path it
 * shares with the upload API, so a file written over SFTP is checked, spooled and queued exactly as an
 * HTTP upload is, under the identity `(pipeline, sftp://<user>/inbound/<pipeline>/<name>, content hash)`.
 * Imported only when the door is on, so nothing else loads ssh2.
 */
import { ConfigError } from '../../errors.js';
import { type AcceptDeps, acceptUpload } from '../accept.js';
import { DEFAULT_SFTP_PORT } from './defaults.js';
import { loadOrCreateHostKey } from './host-key.js';
import { sftpUri } from './ledger-files.js';
import { type SftpServer, type SftpServerOptions, startSftpServer } from './server.js';
import { resetStagingDir } from './staged-uploads.js';

export interface SftpDoorOptions {
  /** undefined: 2222, or (with `fallback`) a free port when 2222 is taken; 0: any free port. */
  port: number | undefined;
  host: string;
  hostKeyFile: string;
  maxSessionsPerUser: number;
  idleTimeoutMs: number;
  /** `inlet dev`: a busy default port moves to a free one instead of failing. */
  fallback?: boolean;
  backoff?: SftpServerOptions['backoff'];
}

export interface SftpDoor extends SftpServer {
  /** The host key's type (`ssh-ed25519`) and whether this start generated it. */
  readonly hostKeyType: string;
  readonly hostKeyGenerated: boolean;
}

export async function startSftpDoor(
  options: SftpDoorOptions,
  // `queued`: the service's, which the API's uploads go to as well (the drain thread's, when it has one).
  deps: AcceptDeps & { onAccepted: (bytes: number) => void; onFailedSignIn?: () => void },
): Promise<SftpDoor> {
  const hostKey = await loadOrCreateHostKey(options.hostKeyFile);
  // Staged files belong to the sessions that wrote them: none survives a restart, and none was acknowledged.
  const stagingDir = await resetStagingDir(deps.spool.dir);
  const start = (port: number) =>
    startSftpServer({
      hostKey,
      pool: deps.pool,
      logger: deps.logger,
      port,
      host: options.host,
      maxUploadBytes: deps.maxUploadBytes,
      stagingDir,
      maxSessionsPerUser: options.maxSessionsPerUser,
      idleTimeoutMs: options.idleTimeoutMs,
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      ...(deps.onFailedSignIn === undefined ? {} : { onFailedSignIn: deps.onFailedSignIn }),
      accept: async ({ user, pipeline, name, body }) => {
        const accepted = await acceptUpload(deps, {
          name,
          pipeline,
          sourceUri: sftpUri(user, pipeline, name),
          principal: { ok: true, tokenId: `sftp:${user}`, name: `sftp:${user}`, pipelines: [pipeline] },
          body,
        });
        deps.onAccepted(accepted.bytes);
        return accepted;
      },
    });
  const server = await listen(start, options, deps.logger);
  return {
    port: server.port,
    fingerprint: server.fingerprint,
    hostKeyType: hostKey.type,
    hostKeyGenerated: hostKey.generated,
    // The queued rows of its files are flushed with the service's, when the API closes.
    stop: () => server.stop(),
  };
}

async function listen(
  start: (port: number) => Promise<SftpServer>,
  options: SftpDoorOptions,
  logger: AcceptDeps['logger'],
): Promise<SftpServer> {
  const busy = (error: unknown) => (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
  if (options.port !== undefined) {
    return start(options.port).catch((error: unknown) => {
      if (!busy(error)) throw error;
      throw new ConfigError(
        'port_in_use',
        `Port ${options.port} (INLET_SFTP_PORT) is in use: free it, choose another port, or set INLET_SFTP_PORT=off.`,
      );
    });
  }
  return start(DEFAULT_SFTP_PORT).catch((error: unknown) => {
    if (!busy(error)) throw error;
    if (options.fallback !== true) {
      throw new ConfigError(
        'port_in_use',
        `Port ${DEFAULT_SFTP_PORT} is in use: stop what holds it, set INLET_SFTP_PORT to another port, or INLET_SFTP_PORT=off.`,
      );
    }
    logger.warn(
      `port ${DEFAULT_SFTP_PORT} is in use; the SFTP door takes a free port instead (set INLET_SFTP_PORT to choose)`,
    );
    return start(0);
  });
}
