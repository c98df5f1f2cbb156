/**
 * What the accepting thread and the drain thread (drain-host.ts, drain-thread.ts) say to each other. Only
 * structured-clonable data crosses: the config is plain data, the pool is described by its settings, and the
 * one function a pool may hold (a password read from a rotated secret) is asked of the accepting thread.
 */
import type pg from 'pg';
import type { InletConfig } from '../model/contract.js';
import type { IngestResult } from '../model/ingestion.js';
import { errorReplacer, type LogLevel } from '../observability/logger.js';
import type { QueuedFile } from './queued-ledger.js';
import type { Sidecar } from './spool-format.js';
import type { WorkerPoolOptions } from './worker.js';

export type DrainWorkerSettings = Pick<
  WorkerPoolOptions,
  'concurrency' | 'batchFiles' | 'pollMs' | 'engineRetry' | 'maxAttempts' | 'backoffMs' | 'maxBackoffMs'
>;

/** The thread's `workerData`. */
export interface DrainThreadData {
  spoolDir: string;
  config: InletConfig;
  /** The accepting side's pool settings, without its functions; `max` is the thread's own. */
  pool: pg.PoolConfig;
  /** The pool's password is a function: the thread asks for it (`password` / `password-reply`). */
  passwordFromHost: boolean;
  workers: DrainWorkerSettings;
  /** The accepting side's log level: lines below it are not sent at all. */
  logLevel: LogLevel;
}

/** A file a worker finished, as onFinished saw it in the thread (the held bytes are not sent back). */
export interface FinishedEntry {
  id: string;
  name: string;
  size: number;
  sha256: string;
  receivedAt: Date;
  path: string;
  meta: Record<string, string>;
}

export type HostMessage =
  /** A file was published into `incoming/`; its sidecar and held bytes spare the thread reading it back. */
  | { type: 'published'; id: string; sidecar: Sidecar; content: Uint8Array | undefined }
  /** The queued ledger row of an accepted upload, which the thread writes (queued-ledger.ts). */
  | { type: 'queued'; pipeline: string; file: QueuedFile }
  | { type: 'stop'; graceMs: number }
  | { type: 'password-reply'; request: number; password?: string; error?: string };

export type ThreadMessage =
  | { type: 'ready' }
  | { type: 'stopped' }
  | { type: 'log'; level: Exclude<LogLevel, 'silent'>; message: string; fields: Record<string, unknown> }
  | { type: 'worker-started' }
  | { type: 'worker-stopped' }
  | { type: 'ingested'; result: IngestResult; receivedAt: Date }
  | { type: 'finished'; entry: FinishedEntry; result: IngestResult }
  | { type: 'password'; request: number };

/** The pool's settings that can cross to the thread: every field but functions (and the password function). */
export function poolSettings(pool: pg.Pool): { settings: pg.PoolConfig; passwordFromHost: boolean } {
  const options = (pool as pg.Pool & { options: pg.PoolConfig }).options;
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (typeof value !== 'function') settings[key] = value;
  }
  // pg-pool keeps the password out of the enumerable fields.
  const password = options.password;
  if (typeof password === 'string') settings.password = password;
  return { settings: settings as pg.PoolConfig, passwordFromHost: typeof password === 'function' };
}

/**
 * Log fields as the logger would write them: an Error becomes its name, message and code (structured
 * cloning would drop the code, and cannot take every value a field may hold).
 */
export function loggableFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (fields === undefined) return {};
  return JSON.parse(JSON.stringify(fields, errorReplacer)) as Record<string, unknown>;
}
