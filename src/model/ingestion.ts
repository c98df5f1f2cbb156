import type { Readable } from 'node:stream';
import type { ErrorReport } from '../error-codes/index.js';

/**
 * One object to ingest, as any front door (CLI, Lambda, upload worker) sees it.
 * `open()` may be called more than once: a retry after a lost connection reads the object again.
 */
export interface ObjectSource {
  /** Canonical URI: `file:///abs/path`, `s3://bucket/key`. Part of the file's identity. */
  readonly uri: string;
  /** The key or file name: what `match` globs and extension detection look at. */
  readonly name: string;
  readonly versionId?: string;
  readonly etag?: string;
  /**
   * The SHA-256 of the object's bytes (hex), when the door computed it as it stored them (the upload spool):
   * the ledger is asked for a load of the same content before a byte is read, under the lock, so the same
   * question after the COPY is skipped when the hash the engine computes while reading agrees.
   */
  readonly sha256?: string;
  readonly size?: number;
  /**
   * Orders versions of one URI (S3 sequencer or version timestamp, fixed-width or numeric string).
   * In upsert and replace modes an object older than the loaded one is `superseded`, never applied.
   */
  readonly order?: string;
  /** When the file was accepted by a front door (upload 202, S3 event time); feeds the lag metric. */
  readonly receivedAt?: Date;
  open(): Promise<Readable>;
  /**
   * Bytes `[start, end)` of the same object `open()` reads (end exclusive), for formats whose index
   * is at the end (Parquet footers, XLSX zip directories). Optional: without it such files are
   * spooled to a temporary file first. Files and S3 objects offer it.
   */
  openRange?(start: number, end: number): Promise<Readable>;
}

export type IngestStatus = 'loaded' | 'duplicate' | 'superseded' | 'rejected' | 'failed';

export interface RejectRecord {
  /** 1-based physical line where the row or JSON element starts. */
  readonly line: number | undefined;
  /** 1-based data record number (header excluded). */
  readonly record: number;
  /** Contract column (or source field) at fault; undefined when the row as a whole is bad. */
  readonly column: string | undefined;
  /** The raw input, truncated to a readable length. */
  readonly value: string | undefined;
  readonly reason: string;
}

export interface IngestResult {
  readonly source: string;
  readonly pipeline: string;
  readonly status: IngestStatus;
  /** The ledger row; for `duplicate`, the ingestion that loaded the file first. */
  readonly ingestionId: string | null;
  readonly rowsLoaded: number;
  readonly rowsRejected: number;
  /** Bytes read from the source (compressed size for compressed files). */
  readonly bytes: number;
  readonly durationMs: number;
  readonly contentSha256?: string;
  readonly error?: ErrorReport;
  /** The first rejected rows (all of them, up to a cap), for display. */
  readonly rejects: readonly RejectRecord[];
  /** Under `onDrift: evolve`, the contract version this file created by adding columns to the table. */
  readonly contractChange?: ContractChange;
}

/** A column an evolving file added to its pipeline's contract and table. */
export interface EvolvedColumn {
  /** The table column. */
  readonly name: string;
  /** As the config spells it: `bigint`, `numeric(12,2)`. */
  readonly type: string;
  /** The file's header or field name it is read from. */
  readonly source: string;
  /** A parse format the inferred type needs (`DD/MM/YYYY`). */
  readonly format?: string;
}

/**
 * A new version of a pipeline's contract (onDrift: evolve): the columns a file added and the DDL that added
 * them, committed with that file's rows. Version 1 is the configured contract; each later one adds columns.
 */
export interface ContractChange {
  readonly version: number;
  readonly columns: readonly EvolvedColumn[];
  /** The statement run, `ALTER TABLE … ADD COLUMN …`; empty when the table had the columns already. */
  readonly ddl: string;
}

export interface IngestProgress {
  readonly bytes: number;
  readonly rows: number;
  readonly totalBytes: number | undefined;
}
