/**
 * Terminal I/O for commands: results on stdout, everything else on stderr (docs/cli.md), so
 * `inlet ingest --json … | jq` always sees clean lines.
 *
 * Every write to stdout goes through here. `process.stdout` is made on first use, which for a pipe costs a
 * command 1 to 2 ms of Node's stream machinery (a twentieth of `inlet --help`): help and the version are
 * written to the file descriptor directly, and the stream is made only for results.
 */
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { createLogger, type Logger, type LogLevel } from '../observability/logger.js';
import { colourAllowed, logLevel } from './settings.js';

let stdoutMade = false;

/**
 * `process.stdout`, made on first use with the one rule for its errors: `inlet ingestions | head` closes
 * stdout early, which is the reader's choice, not an error, so EPIPE ends the command quietly.
 */
export function stdout(): NodeJS.WriteStream {
  if (!stdoutMade) {
    stdoutMade = true;
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') readerGone();
      throw error;
    });
  }
  return process.stdout;
}

/** The reader of stdout has gone: the command ends with the exit code it had, quietly. */
function readerGone(): never {
  process.exit(process.exitCode ?? 0);
}

/**
 * Writes a short text (help, the version) to stdout without making `process.stdout` where it is not a
 * terminal. A pipe that is full (EAGAIN, when whoever made it set it non-blocking) takes the rest through the
 * stream; a reader that has gone (EPIPE) ends the command quietly, as stdout() does.
 */
export function writeShort(text: string): void {
  if (stdoutMade || isatty(1)) {
    stdout().write(text);
    return;
  }
  const bytes = Buffer.from(text);
  let at = 0;
  try {
    while (at < bytes.length) at += writeSync(1, bytes, at);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') readerGone();
    if (code !== 'EAGAIN') throw error;
    stdout().write(bytes.subarray(at));
  }
}

/** Writes one line of results. */
export function print(line: string): Promise<void> {
  return write(`${line}\n`);
}

/** Writes results as they are, waiting when the pipe is full so large exports keep memory flat. */
export async function write(text: string): Promise<void> {
  const out = stdout();
  if (!out.write(text)) {
    await new Promise<void>((resolve) => out.once('drain', resolve));
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
