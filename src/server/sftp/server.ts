/**
 * The SFTP door: an SSH server (ssh2, pure JavaScript) that offers only the `sftp` subsystem. Everything
 * else a client may ask of an SSH server (a shell, exec, port forwarding, agent forwarding, X11, a pty)
 * is refused with a log line. Each connection signs in (sign-in.ts), then each SFTP channel is served by
 * session.ts in the user's virtual tree. Limits: `maxSessionsPerUser` connections per user, an idle
 * timeout per connection, and the back-off on failed sign-ins per source address.
 */
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import ssh2, { type Connection } from 'ssh2';
import type { Logger } from '../../observability/logger.js';
import type { Accepted } from '../accept.js';
import type { HostKey } from './host-key.js';
import { serveSftp } from './session.js';
import { type BackoffOptions, FailedSignIns, judgeSignIn, MAX_ATTEMPTS } from './sign-in.js';

export interface SftpServerOptions {
  hostKey: HostKey;
  pool: pg.Pool;
  logger: Logger;
  port: number;
  host: string;
  maxUploadBytes: number;
  /** Where files written under a temporary name wait for their rename. */
  stagingDir: string;
  maxSessionsPerUser: number;
  idleTimeoutMs: number;
  backoff?: BackoffOptions;
  /** Streams one file into the spool for this user; resolves once it is durable and queued. */
  accept: (request: {
    user: string;
    pipeline: string;
    name: string;
    body: AsyncIterable<Uint8Array>;
  }) => Promise<Accepted>;
  /** Told of each failed sign-in (a connection that ended without one), for the metric. */
  onFailedSignIn?: () => void;
}

export interface SftpServer {
  readonly port: number;
  readonly fingerprint: string;
  /** Stops accepting connections, ends the open ones, and resolves when the listener is closed. */
  stop(): Promise<void>;
}

export async function startSftpServer(options: SftpServerOptions): Promise<SftpServer> {
  const logger = options.logger.child({ component: 'sftp' });
  const failures = new FailedSignIns(options.backoff);
  const sessionsByUser = new Map<string, number>();
  const connections = new Set<Connection>();

  const server = new ssh2.Server(
    {
      hostKeys: [options.hostKey.privateKey],
      ident: 'Inlet',
      banner: undefined,
    },
    (client, info) => {
      const address = info.ip;
      if (failures.isBlocked(address)) {
        logger.warn('sftp connection refused: too many failed sign-ins from this address', { address });
        client.end();
        return;
      }
      connections.add(client);
      let user: string | undefined;
      let attempts = 0;
      let idle: NodeJS.Timeout | undefined;
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          logger.info('sftp connection idle: closed', { address, user, idleMs: options.idleTimeoutMs });
          client.end();
        }, options.idleTimeoutMs);
        idle.unref();
      };
      touch();
      const sessions: { closed: () => void }[] = [];

      client.on('authentication', (ctx) => {
        touch();
        void judgeSignIn(options.pool, ctx)
          .then(async (outcome) => {
            if (outcome.accepted) {
              const open = sessionsByUser.get(outcome.credentials.name) ?? 0;
              if (open >= options.maxSessionsPerUser) {
                logger.warn('sftp sign-in refused: session limit', {
                  address,
                  user: ctx.username,
                  limit: options.maxSessionsPerUser,
                });
                return ctx.reject([]);
              }
              user = outcome.credentials.name;
              sessionsByUser.set(user, open + 1);
              logger.info('sftp signed in', { address, user, method: ctx.method });
              pipelines = outcome.credentials.pipelines;
              return ctx.accept();
            }
            if (outcome.reason === 'key-ok') return ctx.accept();
            if (ctx.method !== 'none') {
              attempts++;
              logger.warn('sftp sign-in refused', {
                address,
                user: ctx.username,
                method: ctx.method,
                reason: outcome.why,
              });
            }
            const delay = ctx.method === 'none' ? 0 : failures.delayMs(address);
            if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
            if (attempts >= MAX_ATTEMPTS) {
              logger.warn('sftp connection closed: too many sign-in attempts', {
                address,
                user: ctx.username,
              });
              client.end();
              return;
            }
            ctx.reject(outcome.methods);
          })
          .catch((error: unknown) => {
            logger.error('sftp sign-in could not be checked', { address, user: ctx.username, error });
            ctx.reject();
          });
      });

      let pipelines: readonly string[] = [];
      client.on('ready', () => {
        const name = user as string;
        client.on('session', (acceptSession) => {
          const session = acceptSession();
          const refuseRequest = (what: string) => (_accept: unknown, reject?: () => void) => {
            logger.warn('sftp request refused', { address, user: name, request: what });
            reject?.();
          };
          session.on('pty', refuseRequest('pty'));
          session.on('shell', refuseRequest('shell'));
          session.on('exec', refuseRequest('exec'));
          session.on('x11', refuseRequest('x11 forwarding'));
          session.on('auth-agent', refuseRequest('agent forwarding'));
          session.on('env', refuseRequest('env'));
          session.on('subsystem', refuseRequest('subsystem other than sftp'));
          session.on('sftp', (acceptSftp) => {
            const sftp = acceptSftp();
            const served = serveSftp(sftp, {
              user: name,
              pipelines,
              address,
              pool: options.pool,
              logger,
              maxUploadBytes: options.maxUploadBytes,
              stagingDir: options.stagingDir,
              accept: (request) => options.accept({ ...request, user: name }),
              touch,
            });
            sessions.push(served);
            sftp.on('close', served.closed);
            // The client's EOF ends the subsystem: closing the channel lets `sftp` exit after its last command.
            sftp.on('end', () => sftp.end());
          });
        });
        client.on('tcpip', (_accept, reject, info) => {
          logger.warn('sftp request refused', {
            address,
            user: name,
            request: 'port forwarding',
            to: `${info.destIP}:${info.destPort}`,
          });
          reject();
        });
        client.on('openssh.streamlocal', (_accept, reject) => {
          logger.warn('sftp request refused', { address, user: name, request: 'socket forwarding' });
          reject();
        });
        client.on('request', (_accept, reject, request) => {
          logger.warn('sftp request refused', { address, user: name, request });
          reject?.();
        });
      });

      client.on('error', (error) => {
        logger.debug('sftp connection error', { address, user, error: error.message });
      });
      client.on('close', () => {
        clearTimeout(idle);
        connections.delete(client);
        for (const session of sessions) session.closed();
        if (user === undefined) {
          if (attempts > 0) {
            failures.record(address);
            options.onFailedSignIn?.();
          }
          return;
        }
        const open = (sessionsByUser.get(user) ?? 1) - 1;
        if (open <= 0) sessionsByUser.delete(user);
        else sessionsByUser.set(user, open);
      });
    },
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error: Error) => logger.error('sftp server error', { error }));
  const port = (server.address() as AddressInfo).port;
  logger.info('sftp door listening', {
    host: options.host,
    port,
    hostKey: `${options.hostKey.type} ${options.hostKey.fingerprint}`,
  });

  let stopping: Promise<void> | undefined;
  return {
    port,
    fingerprint: options.hostKey.fingerprint,
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const client of connections) client.end();
      });
      return stopping;
    },
  };
}
