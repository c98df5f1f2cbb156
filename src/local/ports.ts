import { ConfigError } from '../errors.js';
import type { Logger } from '../observability/logger.js';

/**
 * Starts a listener on the port the settings name (busy is an error: the user asked for it), else on its
 * default port, or any free port when the default is taken, so `npm start` works on a laptop where 8080 or
 * 9000 is already used.
 */
export async function listenWithFallback<T>(
  start: (port: number) => Promise<T>,
  options: {
    /** The port asked for; undefined: the default. */
    port: number | undefined;
    /** The variable that asks for it, named in messages. */
    variable: string;
    defaultPort: number;
    what: string;
    logger: Logger;
    /** false: a busy default port is an error too (a server, where a silent move would lose its clients). */
    fallback?: boolean;
  },
): Promise<T> {
  const { port } = options;
  if (port !== undefined) {
    return start(port).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') throw error;
      throw new ConfigError(
        'port_in_use',
        `Port ${port} (${options.variable}) is in use: free it or choose another port.`,
      );
    });
  }
  return start(options.defaultPort).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EADDRINUSE') throw error;
    if (options.fallback === false) {
      throw new ConfigError(
        'port_in_use',
        `Port ${options.defaultPort} is in use: stop what holds it, or set ${options.variable} to another port.`,
      );
    }
    options.logger.warn(
      `port ${options.defaultPort} is in use; ${options.what} takes a free port instead (set ${options.variable} to choose)`,
    );
    return start(0);
  });
}
