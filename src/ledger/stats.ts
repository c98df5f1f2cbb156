/**
 * Throughput figures from the ledger for the dashboard's charts: files and rows per time bucket, and
 * reject ratios per pipeline, over a recent window. Every figure counts finished files (a verdict with
 * its `finished_at`), each in the bucket where it finished, so a sum over the buckets equals a count
 * of the ledger rows over the same window.
 */
import type pg from 'pg';
import { isUndefinedTable, LEDGER_STATUSES, type LedgerStatus } from './read.js';

export interface StatsOptions {
  /** The window: the last this many minutes (rounded out to whole buckets). */
  minutes: number;
  /** Only this pipeline. */
  pipeline?: string | undefined;
  /** Only these pipelines (a token's scope); undefined for all. */
  pipelines?: readonly string[] | undefined;
  /** The end of the window; default now. */
  now?: Date;
}

export interface StatsBucket {
  /** Start of the bucket; it lasts `bucketSeconds`. */
  start: string;
  files: number;
  rowsLoaded: number;
  rowsRejected: number;
  /** Rows loaded in the bucket divided by its length. */
  rowsPerSecond: number;
  /** Files finished in the bucket divided by its length in minutes. */
  filesPerMinute: number;
}

export interface PipelineStats {
  pipeline: string;
  files: number;
  rowsLoaded: number;
  rowsRejected: number;
  /** rowsRejected / (rowsLoaded + rowsRejected); null when neither happened. */
  rejectRatio: number | null;
  byStatus: Record<LedgerStatus, number>;
}

export interface LedgerStats {
  from: string;
  to: string;
  bucketSeconds: number;
  buckets: StatsBucket[];
  pipelines: PipelineStats[];
  totals: Omit<PipelineStats, 'pipeline'>;
}

/** At most this many minutes: a week. */
export const MAX_STATS_MINUTES = 7 * 24 * 60;
/** Bucket lengths a window may use: the shortest that keeps it to MAX_BUCKETS buckets. */
const BUCKET_SECONDS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800] as const;
const MAX_BUCKETS = 60;

export function bucketSecondsFor(minutes: number): number {
  const wanted = (minutes * 60) / MAX_BUCKETS;
  return BUCKET_SECONDS.find((seconds) => seconds >= wanted) ?? BUCKET_SECONDS[BUCKET_SECONDS.length - 1]!;
}

export interface StatsWindow {
  from: Date;
  to: Date;
  bucketSeconds: number;
}

/** The window ends at the end of the bucket holding `now`, and starts on a bucket boundary. */
export function statsWindow(minutes: number, now: Date = new Date()): StatsWindow {
  const bucketSeconds = bucketSecondsFor(minutes);
  const bucketMs = bucketSeconds * 1000;
  const to = (Math.floor(now.getTime() / bucketMs) + 1) * bucketMs;
  const count = Math.ceil((minutes * 60) / bucketSeconds);
  return { from: new Date(to - count * bucketMs), to: new Date(to), bucketSeconds };
}

/**
 * The grouped query (exported so tests can EXPLAIN it). The condition on the sort key of the
 * ingestions_recent index is implied by the one on finished_at (a finished file's key is its
 * finished_at) and is there so the planner scans only the window's part of that index.
 */
export function statsQuery(
  options: Pick<StatsOptions, 'pipeline' | 'pipelines'>,
  window: StatsWindow,
): { text: string; values: unknown[] } {
  return {
    text: `SELECT floor(extract(epoch FROM finished_at) / $3)::bigint AS bucket, pipeline, status,
                  count(*)::bigint AS files,
                  coalesce(sum(rows_loaded), 0)::bigint AS rows_loaded,
                  coalesce(sum(rows_rejected), 0)::bigint AS rows_rejected
             FROM inlet.ingestions
            WHERE coalesce(finished_at, started_at, received_at) >= $1
              AND finished_at >= $1 AND finished_at < $2
              AND ($4::text IS NULL OR pipeline = $4)
              AND ($5::text[] IS NULL OR pipeline = ANY($5))
            GROUP BY 1, 2, 3`,
    values: [
      window.from,
      window.to,
      window.bucketSeconds,
      options.pipeline ?? null,
      options.pipelines ?? null,
    ],
  };
}

interface StatsRow {
  bucket: string;
  pipeline: string;
  status: LedgerStatus;
  files: string;
  rows_loaded: string;
  rows_rejected: string;
}

export async function ledgerStats(pool: pg.Pool, options: StatsOptions): Promise<LedgerStats> {
  const window = statsWindow(options.minutes, options.now);
  let rows: StatsRow[];
  try {
    rows = (await pool.query<StatsRow>(statsQuery(options, window))).rows;
  } catch (error) {
    if (!isUndefinedTable(error)) throw error;
    rows = [];
  }
  return summarise(rows, window);
}

function summarise(rows: readonly StatsRow[], window: StatsWindow): LedgerStats {
  const { bucketSeconds } = window;
  const first = window.from.getTime() / 1000 / bucketSeconds;
  const count = Math.round((window.to.getTime() - window.from.getTime()) / 1000 / bucketSeconds);
  const sums = Array.from({ length: count }, () => ({ files: 0, rowsLoaded: 0, rowsRejected: 0 }));
  const pipelines = new Map<string, PipelineStats>();
  const totals = emptyCounts();
  for (const row of rows) {
    const files = Number(row.files);
    const rowsLoaded = Number(row.rows_loaded);
    const rowsRejected = Number(row.rows_rejected);
    const bucket = sums[Number(row.bucket) - first];
    if (bucket !== undefined) {
      bucket.files += files;
      bucket.rowsLoaded += rowsLoaded;
      bucket.rowsRejected += rowsRejected;
    }
    let pipeline = pipelines.get(row.pipeline);
    if (pipeline === undefined) {
      pipeline = { pipeline: row.pipeline, ...emptyCounts() };
      pipelines.set(row.pipeline, pipeline);
    }
    for (const counts of [pipeline, totals]) {
      counts.files += files;
      counts.rowsLoaded += rowsLoaded;
      counts.rowsRejected += rowsRejected;
      counts.byStatus[row.status] += files;
    }
  }
  for (const counts of [...pipelines.values(), totals]) counts.rejectRatio = ratio(counts);
  return {
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    bucketSeconds,
    buckets: sums.map((sum, i) => ({
      start: new Date((first + i) * bucketSeconds * 1000).toISOString(),
      ...sum,
      rowsPerSecond: sum.rowsLoaded / bucketSeconds,
      filesPerMinute: (sum.files * 60) / bucketSeconds,
    })),
    pipelines: [...pipelines.values()].sort((a, b) => a.pipeline.localeCompare(b.pipeline)),
    totals,
  };
}

function emptyCounts(): Omit<PipelineStats, 'pipeline'> {
  return {
    files: 0,
    rowsLoaded: 0,
    rowsRejected: 0,
    rejectRatio: null,
    byStatus: Object.fromEntries(LEDGER_STATUSES.map((status) => [status, 0])) as Record<
      LedgerStatus,
      number
    >,
  };
}

function ratio(counts: Omit<PipelineStats, 'pipeline'>): number | null {
  const seen = counts.rowsLoaded + counts.rowsRejected;
  return seen === 0 ? null : counts.rowsRejected / seen;
}
