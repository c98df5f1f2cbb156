/**
 * Structured JSON logs, one object per line on stderr (stdout carries only results).
 * The level is the caller's: the doors take it from INLET_LOG_LEVEL through their settings; default info.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Whether a line at `lvl` is written by a logger whose least severe level is `threshold`. */
export function levelWritten(lvl: LogLevel, threshold: LogLevel): boolean {
  return RANK[lvl] >= RANK[threshold];
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` (e.g. the ingestion id) to every line. */
  child(fields: Record<string, unknown>): Logger;
  /** The least severe level written, when known: a logger relayed from another thread sends nothing below it. */
  readonly level?: LogLevel;
}

export function createLogger(
  base: Record<string, unknown> = {},
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const emit = (lvl: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (!levelWritten(lvl, level)) return;
    const entry = { time: new Date().toISOString(), level: lvl, message, ...base, ...fields };
    write(`${JSON.stringify(entry, errorReplacer)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }, level, write),
    level,
  };
}

/** JSON.stringify's replacer for log fields: an Error becomes its name, message and code. */
export function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, ...('code' in value ? { code: value.code } : {}) };
  }
  return value;
}

export const silentLogger: Logger = createLogger({}, 'silent');
