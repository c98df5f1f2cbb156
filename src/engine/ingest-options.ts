import type pg from 'pg';
import type { ParquetDecoder } from '../formats/parquet/reader.js';
import type { IngestProgress } from '../model/ingestion.js';
import type { Logger } from '../observability/logger.js';

/** How a door runs one ingestion: the database, and the switches of `inlet ingest`, `inlet validate` and the workers. */
export interface IngestOptions {
  readonly pool: pg.Pool;
  /** Load again even when this identity was loaded before (a new ingestion). */
  readonly force?: boolean;
  /**
   * Let a replace pipeline's file shrink its table past the pipeline's `replace` guard (`inlet ingest
   * --force`); without it such a file is `rejected` with `replace_guard`.
   */
  readonly forceReplace?: boolean;
  /** Validate everything and roll back instead of committing (`inlet validate`). */
  readonly dryRun?: boolean;
  /** A ledger id assigned earlier by a front door (e.g. the upload API's 202). */
  readonly ingestionId?: string;
  readonly logger?: Logger;
  readonly onProgress?: (progress: IngestProgress) => void;
  readonly signal?: AbortSignal;
  /**
   * COPY format: `auto` (default) uses binary, which saves PostgreSQL most of its parsing, whenever
   * every column can be encoded in it; `text` forces the text format (for comparison and debugging).
   */
  readonly copyFormat?: 'auto' | 'text';
  /**
   * Which decoder reads a Parquet file's flat columns: `auto` (default) arrow-rs for a file large enough to
   * repay starting it, hyparquet for a smaller one (src/formats/parquet/reader.ts); `arrow-rs` or `hyparquet`
   * to force one (for comparison and tests).
   */
  readonly parquetDecoder?: ParquetDecoder;
}
