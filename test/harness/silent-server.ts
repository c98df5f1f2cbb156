/**
 * A TCP server on the loopback that accepts connections and never says a word: what a client sees of a
 * hung PostgreSQL, or of a proxy whose backend is down. For tests that a client does not wait on it for ever.
 */
import { createServer, type Socket } from 'node:net';

export interface SilentServer {
  /** A PostgreSQL URL that points at it. */
  readonly url: string;
  /** Resolves once a client has connected. */
  accepted(): Promise<void>;
  /** Resolves once every client that connected has closed its end. */
  closedByClient(): Promise<void>;
  close(): Promise<void>;
}

export async function silentServer(): Promise<SilentServer> {
  const sockets: Socket[] = [];
  const closed: Promise<void>[] = [];
  let onAccept: (() => void) | undefined;
  const first = new Promise<void>((resolve) => {
    onAccept = resolve;
  });
  const server = createServer((socket) => {
    sockets.push(socket);
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
    socket.on('error', () => undefined);
    // Read and drop what the client sends: a socket never read never sees the client's end either.
    socket.resume();
    onAccept?.();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `postgres://inlet:secret@127.0.0.1:${port}/none?sslmode=disable`,
    accepted: () => first,
    closedByClient: async () => {
      await Promise.all(closed);
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
