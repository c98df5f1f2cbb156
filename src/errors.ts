import type { ErrorCode, ErrorReport } from './error-codes/index.js';

/**
 * Every error Inlet raises on purpose is an InletError: it carries a stable `code` from the catalogue
 * (src/error-codes/, docs/errors.md) for scripts, a message that says what happened, where, and what
 * to do, and the underlying `cause`.
 */
export interface ErrorLocation {
  /** The file or object URI the error is about. */
  readonly source?: string;
  /** 1-based physical line in the (decompressed) file. */
  readonly line?: number;
  /** 1-based record number (row or JSON element), when lines do not apply. */
  readonly record?: number;
  /** The contract column (or the source field) involved. */
  readonly column?: string;
}

export class InletError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; location?: ErrorLocation } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.location = options.location;
  }

  toJSON(): ErrorReport {
    return { code: this.code, message: this.message };
  }
}

/** The pipeline config is invalid; the message names the key path. Exit code 2. */
export class ConfigError extends InletError {}

/** The command line is wrong (unknown pipeline, missing argument). Exit code 2. */
export class UsageError extends InletError {}

/** The file cannot be read as its declared or detected format (binary as CSV, truncated gzip, broken JSON). */
export class FormatError extends InletError {}

/** The object could not be opened or read from its store. */
export class SourceError extends InletError {}

/** PostgreSQL refused or lost the work; `retryable` says whether trying again can help. */
export class DatabaseError extends InletError {
  readonly retryable: boolean;
  readonly sqlState: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryable?: boolean; sqlState?: string; location?: ErrorLocation } = {},
  ) {
    super(code, message, options);
    this.retryable = options.retryable ?? false;
    this.sqlState = options.sqlState;
  }
}

/** Formats `file:line:column` style locations for messages. */
export function describeLocation(location: ErrorLocation): string {
  const parts: string[] = [];
  if (location.source) parts.push(location.source);
  if (location.line !== undefined) parts.push(`line ${location.line}`);
  else if (location.record !== undefined) parts.push(`record ${location.record}`);
  if (location.column) parts.push(`column "${location.column}"`);
  return parts.join(', ');
}
