/**
 * Terminal I/O for commands: results on stdout, everything else on stderr (docs/cli.md), so
 * `inlet ingest --json … | jq` always sees clean lines.
 */
import { createLogger, type Logger, type LogLevel } from '../observability/logger.js';
import { colourAllowed, logLevel } from './settings.js';

/** Writes one line of results. */
export function print(line: string): Promise<void> {
  return write(`${line}\n`);
}

/** Writes results as they are, waiting when the pipe is full so large exports keep memory flat. */
export async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) {
    await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
  }
}

/** A line for the person at the terminal, not for the program reading stdout. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Colour only for a person at a terminal; NO_COLOR (https://no-color.org) turns it off. */
export function colourEnabled(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && colourAllowed();
}

export interface Paint {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export function paint(enabled: boolean): Paint {
  const wrap = (open: number, close: number) => (text: string) =>
    enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return {
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

/**
 * The CLI prints its own summaries, so the engine's structured logs default to warnings only;
 * INLET_LOG_LEVEL=info or debug brings them back.
 */
export function cliLogger(defaultLevel: LogLevel = 'warn'): Logger {
  return createLogger({ component: 'cli' }, logLevel(defaultLevel));
}

/** INLET_LOG_LEVEL=debug; asked while reporting an error, so a bad value (reported already) is not one. */
export function debugEnabled(): boolean {
  try {
    return logLevel('warn') === 'debug';
  } catch {
    return false;
  }
}
