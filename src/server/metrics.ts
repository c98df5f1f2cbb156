/**
 * The upload service's metrics, served at `/metrics` in Prometheus text format. Names follow the
 * Prometheus conventions (`_total` counters, `_seconds` histograms) and match the Lambda's EMF metric
 * names without those suffixes, so one dashboard vocabulary covers both shapes. The worker also logs
 * each finished file as a CloudWatch Embedded Metric Format record (emfRecord) for the CloudWatch agent.
 *
 * Two registries, so what a token may see is decided by structure rather than by a list of names: the
 * per-pipeline series (every one labelled `pipeline`) and the service-wide ones (uploads by outcome,
 * bytes, spool depth, busy workers, process metrics), which add up every pipeline's activity. A token
 * scoped to pipelines sees only its pipelines' series; an unscoped token sees both registries.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { IngestResult } from '../model/ingestion.js';
import type { SpoolState } from './spool.js';

export type UploadOutcome =
  | 'accepted'
  | 'replayed'
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'no_pipeline'
  | 'idempotency_key_reused'
  | 'too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'spool_full'
  | 'unavailable';

/** From a few milliseconds for a small file to minutes for a large one. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class ServerMetrics {
  /** Service-wide series: only unscoped tokens see them. */
  readonly registry = new Registry();
  /** Series labelled by pipeline: a scoped token sees its pipelines' samples. */
  readonly pipelineRegistry = new Registry();
  private readonly uploads: Counter<'outcome'>;
  private readonly uploadBytes: Counter;
  private readonly files: Counter<'pipeline' | 'status'>;
  private readonly rowsLoaded: Counter<'pipeline'>;
  private readonly rowsRejected: Counter<'pipeline'>;
  private readonly ingestSeconds: Histogram<'pipeline'>;
  private readonly lagSeconds: Histogram<'pipeline'>;
  private readonly busyWorkers: Gauge;
  private readonly sftpFailedSignIns: Counter;

  constructor(options: { spoolDepth?: () => Promise<Record<SpoolState, number>> } = {}) {
    const registers = [this.registry];
    const perPipeline = [this.pipelineRegistry];
    collectDefaultMetrics({ register: this.registry, prefix: 'inlet_' });
    this.uploads = new Counter({
      name: 'inlet_uploads_total',
      help: 'Upload requests by outcome (accepted once durable in the spool).',
      labelNames: ['outcome'],
      registers,
    });
    this.uploadBytes = new Counter({
      name: 'inlet_upload_bytes_total',
      help: 'Bytes of accepted uploads.',
      registers,
    });
    this.files = new Counter({
      name: 'inlet_files_total',
      help: 'Files the worker finished, by pipeline and ingestion status.',
      labelNames: ['pipeline', 'status'],
      registers: perPipeline,
    });
    this.rowsLoaded = new Counter({
      name: 'inlet_rows_loaded_total',
      help: 'Rows committed to the target tables.',
      labelNames: ['pipeline'],
      registers: perPipeline,
    });
    this.rowsRejected = new Counter({
      name: 'inlet_rows_rejected_total',
      help: 'Rows rejected by validation.',
      labelNames: ['pipeline'],
      registers: perPipeline,
    });
    this.ingestSeconds = new Histogram({
      name: 'inlet_ingest_duration_seconds',
      help: 'Time the engine spent on a file, from claim to outcome.',
      labelNames: ['pipeline'],
      buckets: DURATION_BUCKETS,
      registers: perPipeline,
    });
    this.lagSeconds = new Histogram({
      name: 'inlet_lag_seconds',
      help: 'Time from the 202 (file durable in the spool) to its outcome: what a client waits.',
      labelNames: ['pipeline'],
      buckets: DURATION_BUCKETS,
      registers: perPipeline,
    });
    this.busyWorkers = new Gauge({
      name: 'inlet_workers_busy',
      help: 'Workers ingesting a file right now.',
      registers,
    });
    this.sftpFailedSignIns = new Counter({
      name: 'inlet_sftp_failed_signins_total',
      help: 'SFTP connections that ended without signing in (unknown keys, wrong passwords).',
      registers,
    });
    const spoolDepth = options.spoolDepth;
    if (spoolDepth) {
      new Gauge({
        name: 'inlet_spool_entries',
        help: 'Files in the spool, by state.',
        labelNames: ['state'],
        registers,
        async collect() {
          const depth = await spoolDepth();
          for (const [state, count] of Object.entries(depth)) this.set({ state }, count);
        },
      });
    }
  }

  upload(outcome: UploadOutcome, bytes = 0): void {
    this.uploads.inc({ outcome });
    if (bytes > 0) this.uploadBytes.inc(bytes);
  }

  sftpFailedSignIn(): void {
    this.sftpFailedSignIns.inc();
  }

  ingested(result: IngestResult, receivedAt: Date): void {
    const pipeline = result.pipeline;
    this.files.inc({ pipeline, status: result.status });
    if (result.rowsLoaded > 0) this.rowsLoaded.inc({ pipeline }, result.rowsLoaded);
    if (result.rowsRejected > 0) this.rowsRejected.inc({ pipeline }, result.rowsRejected);
    this.ingestSeconds.observe({ pipeline }, result.durationMs / 1000);
    this.lagSeconds.observe({ pipeline }, Math.max(0, Date.now() - receivedAt.getTime()) / 1000);
  }

  workerStarted(): void {
    this.busyWorkers.inc();
  }

  workerStopped(): void {
    this.busyWorkers.dec();
  }

  /**
   * The Prometheus text a token may see: every series for `null` (an unscoped token), else only the
   * per-pipeline series of those pipelines (HELP and TYPE lines stay, so a family may have no samples).
   */
  async text(pipelines: readonly string[] | null = null): Promise<string> {
    const perPipeline = await this.pipelineRegistry.metrics();
    if (pipelines === null) return `${await this.registry.metrics()}\n${perPipeline}`;
    const allowed = new Set(pipelines);
    return perPipeline
      .split('\n')
      .filter((line) => line === '' || line.startsWith('#') || allowed.has(pipelineLabel(line) ?? ''))
      .join('\n');
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

const PIPELINE_LABEL = /[{,]pipeline="((?:[^"\\]|\\.)*)"/;

/** The `pipeline` label of a sample line, unescaped as the text format escapes it; undefined without one. */
function pipelineLabel(sample: string): string | undefined {
  // The labels before it here are `le` bounds and statuses, which never hold `pipeline="`; the value is
  // read whole, escaped quotes included.
  const escaped = PIPELINE_LABEL.exec(sample)?.[1];
  return escaped?.replace(/\\(.)/g, (_match, c: string) => (c === 'n' ? '\n' : c));
}

/** CloudWatch namespace and dimensions: those the Lambda's Powertools metrics use, so both shapes add up. */
export const EMF_NAMESPACE = 'Inlet';
const EMF_SERVICE = 'inlet';

/**
 * One finished file as a CloudWatch Embedded Metric Format record: `files`, `rows_loaded` and
 * `rows_rejected` (Count, the Lambda's names) plus `ingest_duration` and `lag` (Seconds), under the
 * `service` dimension; pipeline, status and ingestion id ride along as searchable properties.
 * Prometheus `inlet_<name>_total` / `inlet_<name>_seconds` is EMF `<name>`.
 */
export function emfRecord(
  ingestionId: string,
  result: IngestResult,
  receivedAt: Date,
  now: number = Date.now(),
): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: EMF_NAMESPACE,
          Dimensions: [['service']],
          Metrics: [
            { Name: 'files', Unit: 'Count' },
            { Name: 'rows_loaded', Unit: 'Count' },
            { Name: 'rows_rejected', Unit: 'Count' },
            { Name: 'ingest_duration', Unit: 'Seconds' },
            { Name: 'lag', Unit: 'Seconds' },
          ],
        },
      ],
    },
    service: EMF_SERVICE,
    files: 1,
    rows_loaded: result.rowsLoaded,
    rows_rejected: result.rowsRejected,
    ingest_duration: result.durationMs / 1000,
    lag: Math.max(0, now - receivedAt.getTime()) / 1000,
    ingestionId,
    pipeline: result.pipeline,
    status: result.status,
  };
}
