/**
 * Handing an object the Lambda function should not load itself to a runner of the same engine: an ECS
 * Fargate task on AWS (ecs-hand-over.ts), a child `inlet ingest` locally (src/local/child-hand-over.ts).
 */

/** Where an ingestion ran, as the ledger's details record it (`details.handOver.ranOn`). */
export type RanOn = 'lambda' | 'task' | 'server' | 'child';

export interface HandOverRequest {
  readonly bucket: string;
  readonly key: string;
  /** The object's URI as the engine names it (`s3://bucket/key`, the key's path encoded). */
  readonly uri: string;
  /**
   * The version and ETag the ingestion id was derived from: the runner reads exactly that version, or refuses
   * (source_changed) when the object under the key is no longer those bytes, rather than loading a newer
   * object under the older one's identity.
   */
  readonly versionId?: string;
  readonly etag?: string;
  /** The ledger id the runner loads under, so a retry on either side finds the same ingestion. */
  readonly ingestionId: string;
  readonly pipeline: string;
  /** 1 for the first hand-over of this ingestion, then 2… when a failed or silent runner is replaced. */
  readonly attempt: number;
  /** Why the object was handed over, for the ledger and the log. */
  readonly reason: string;
}

export interface HandOver {
  /** What runs the object: `task` (ECS), `child` (a local process), `server`. */
  readonly ranOn: Exclude<RanOn, 'lambda'>;
  /**
   * Starts the runner and returns an id to find it by (the task ARN, the child's pid); throws when it
   * could not be started, so the event is delivered again.
   */
  start(request: HandOverRequest): Promise<string>;
}

/** The command a runner executes: the CLI's, with the ledger id the function assigned. */
export function ingestArguments(request: HandOverRequest): string[] {
  return [
    'ingest',
    request.uri,
    '--pipeline',
    request.pipeline,
    '--ingestion-id',
    request.ingestionId,
    ...(request.versionId === undefined ? [] : ['--version-id', request.versionId]),
    ...(request.etag === undefined ? [] : ['--etag', request.etag]),
  ];
}
