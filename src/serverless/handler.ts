import type { Readable } from 'node:stream';
import type { SQSBatchResponse } from 'aws-lambda';
import type pg from 'pg';
import { routingName } from '../config/client-uploads.js';
import { findPipeline } from '../config/route.js';
import { ingest } from '../engine/ingest.js';
import { InletError } from '../errors.js';
import type { InletConfig, Pipeline } from '../model/contract.js';
import type { IngestResult, ObjectSource } from '../model/ingestion.js';
import type { Logger } from '../observability/logger.js';
import type { Notifier } from '../observability/notify.js';
import { objectSource, uriOf } from '../storage/object-source.js';
import type { ObjectStore } from '../storage/object-store.js';
import { type Announcement, fromDirectEvent, fromSqsMessage, isSqsEvent, type ObjectRef } from './events.js';
import { DEFAULT_TASK_MAX_BYTES, fitsLambda, lambdaLimit, pastEveryLimit } from './fit.js';
import type { HandOver } from './hand-over.js';
import { type HandedObject, handOverId, handOverOnce, recordTooLarge } from './hand-over-ledger.js';
import { startWatchdog, type WatchdogAbort } from './watchdog.js';

/** Where processed and rejected objects go with `afterLoad: move`; objects there are never ingested again. */
export const PROCESSED_PREFIX = 'processed/';
export const REJECTED_PREFIX = 'rejected/';

/** Counts for CloudWatch (EMF) or any other sink; names are Inlet's metric names. */
export interface MetricsSink {
  count(
    name:
      | 'files'
      | 'files_failed'
      | 'files_handed_over'
      | 'rows_loaded'
      | 'rows_rejected'
      | 'unroutable'
      | 'invalid_messages',
    value: number,
    status?: string,
  ): void;
}

export interface HandlerDeps {
  readonly store: ObjectStore;
  readonly config: InletConfig;
  readonly pool: pg.Pool;
  readonly logger: Logger;
  readonly metrics?: MetricsSink;
  readonly notifier?: Notifier;
  /** Where objects above the Lambda limit go (src/serverless/fit.ts); absent: every object loads here. */
  readonly handOver?: HandOver;
  /** INLET_LAMBDA_MAX_BYTES: the limit for pipelines without `serverless.maxLambdaBytes`. */
  readonly maxLambdaBytes?: number;
  /** INLET_TASK_MAX_BYTES: past it (and the Lambda limit) a spooled object is rejected; default 18 GiB. */
  readonly taskMaxBytes?: number;
  /** The invocation's `context.getRemainingTimeInMillis()`: with no other limit, the time decides. */
  readonly remainingMs?: () => number;
}

export interface ObjectOutcome {
  readonly ref: ObjectRef;
  readonly status: IngestResult['status'] | 'no_pipeline' | 'skipped' | 'handed_over';
  readonly result?: IngestResult;
  /** Only a `failed` ingestion (the environment's fault) is worth delivering again. */
  readonly retry: boolean;
  /** Why an object that threw before the engine gave a result (a store call, the notifier) is retried. */
  readonly error?: string;
}

/**
 * The front door for S3 events, SQS messages carrying them, and EventBridge "Object Created"
 * events; the same code runs in Lambda and behind the local gateway. With SQS it reports exactly
 * the messages to deliver again (`batchItemFailures`: loads that failed, and messages that cannot
 * be read, which then reach the dead-letter queue, and messages whose processing threw, logged with their
 * message id), so a poison message never re-queues its healthy neighbours; invoked directly, it throws when an object should be retried. Rejected files,
 * s3:TestEvent and objects no pipeline matches are acknowledged and reported.
 */
export async function handleEvent(event: unknown, deps: HandlerDeps): Promise<SQSBatchResponse | undefined> {
  if (isSqsEvent(event)) {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const message of event.Records) {
      try {
        const announcement = fromSqsMessage(message);
        const outcomes = await processAnnouncement(announcement, deps, { messageId: message.messageId });
        // An unreadable message fails too: after maxReceiveCount it lands in the dead-letter queue,
        // where someone can look at it, instead of vanishing.
        if (announcement.kind === 'invalid' || outcomes.some((o) => o.retry)) {
          batchItemFailures.push({ itemIdentifier: message.messageId });
        }
      } catch (error) {
        // Only this message is delivered again: throwing would redeliver its healthy neighbours too.
        deps.logger.error('could not process an SQS message; it alone will be delivered again', {
          messageId: message.messageId,
          error,
        });
        batchItemFailures.push({ itemIdentifier: message.messageId });
      }
    }
    return { batchItemFailures };
  }
  const outcomes = await processAnnouncement(fromDirectEvent(event), deps, {});
  const retry = outcomes.filter((o) => o.retry);
  if (retry.length > 0) {
    throw new InletError(
      'objects_not_loaded',
      `Could not load ${retry.map((o) => uriOf(deps.store, o.ref.bucket, o.ref.key)).join(', ')}: ${retry
        .map((o) => o.result?.error?.message ?? o.error ?? 'unknown error')
        .join('; ')}. The event is delivered again (Lambda's asynchronous retries).`,
    );
  }
  return undefined;
}

async function processAnnouncement(
  announcement: Announcement,
  deps: HandlerDeps,
  context: Record<string, unknown>,
): Promise<ObjectOutcome[]> {
  if (announcement.kind === 'ignore') {
    deps.logger.info('nothing to load', { ...context, reason: announcement.reason });
    return [];
  }
  if (announcement.kind === 'invalid') {
    deps.logger.error('unreadable event', {
      ...context,
      reason: announcement.reason,
    });
    deps.metrics?.count('invalid_messages', 1);
    return [];
  }
  const outcomes: ObjectOutcome[] = [];
  for (const ref of announcement.objects) {
    try {
      outcomes.push(await processObject(ref, deps));
    } catch (error) {
      // One object that throws (its store call, say) is retried; the message's other objects still get theirs.
      deps.logger.error('could not process an object; it will be delivered again', {
        ...context,
        bucket: ref.bucket,
        key: ref.key,
        error,
      });
      outcomes.push({ ref, status: 'failed', retry: true, error: (error as Error).message });
    }
  }
  // Objects sent back for another delivery: with SQS a partial batch failure, which the function's own
  // Errors metric never counts.
  const failed = outcomes.filter((outcome) => outcome.retry).length;
  if (failed > 0) deps.metrics?.count('files_failed', failed);
  return outcomes;
}

export async function processObject(ref: ObjectRef, deps: HandlerDeps): Promise<ObjectOutcome> {
  const logger = deps.logger.child({ bucket: ref.bucket, key: ref.key });
  if (ref.key.startsWith(PROCESSED_PREFIX) || ref.key.startsWith(REJECTED_PREFIX)) {
    return { ref, status: 'skipped', retry: false };
  }
  const pipeline = findPipeline(deps.config, routingName(ref.key));
  if (pipeline === undefined) {
    logger.warn('no pipeline matches this object: it is left where it is and not retried', {
      pipelines: deps.config.pipelines.map((p) => ({ name: p.name, match: p.match })),
    });
    deps.metrics?.count('unroutable', 1);
    return { ref, status: 'no_pipeline', retry: false };
  }
  const info = await deps.store.head(ref.bucket, ref.key, ref.versionId ? { versionId: ref.versionId } : {});
  if (info === undefined) {
    logger.warn('the object no longer exists: nothing to load');
    return { ref, status: 'skipped', retry: false };
  }
  const object: HandedObject = {
    uri: uriOf(deps.store, ref.bucket, ref.key),
    bucket: ref.bucket,
    key: ref.key,
    size: info.size,
    ...(info.versionId ? { versionId: info.versionId } : {}),
    ...(info.etag ? { etag: info.etag } : {}),
  };
  const handOver = deps.handOver;
  if (handOver !== undefined) {
    const limit = lambdaLimit(pipeline, deps.maxLambdaBytes, deps.remainingMs?.());
    const fit = fitsLambda(ref.key, info.size, pipeline, limit);
    if (!fit.fits) {
      const refusal = pastEveryLimit(
        ref.key,
        info.size,
        pipeline,
        deps.taskMaxBytes ?? DEFAULT_TASK_MAX_BYTES,
      );
      if (refusal !== undefined) return rejectTooLarge(ref, pipeline, object, refusal, deps, logger);
      return handOff(ref, pipeline, object, handOver, fit.reason, deps, logger);
    }
  }
  const source = objectSource(deps.store, ref.bucket, ref.key, {
    ...info,
    ...(ref.sequencer ? { sequencer: ref.sequencer } : {}),
    ...(ref.eventTime ? { receivedAt: ref.eventTime } : {}),
  });
  // With somewhere to hand over to, a load that runs short of time stops and is handed over, under the id
  // the hand-over would use, so that its rolled-back attempt and the hand-over are one ledger row.
  const watchdog =
    handOver !== undefined && deps.remainingMs !== undefined ? startWatchdog(deps.remainingMs) : undefined;
  let result: IngestResult;
  try {
    result = await ingest(watchdog ? abortable(source, watchdog.signal) : source, pipeline, {
      pool: deps.pool,
      logger,
      ...(watchdog ? { signal: watchdog.signal, ingestionId: handOverId(pipeline, object) } : {}),
    });
  } finally {
    watchdog?.stop();
  }
  // Only a load that did not finish: one the watchdog fired on just after its COMMIT stays loaded.
  if (handOver !== undefined && watchdog?.signal.aborted && result.status === 'failed') {
    const reason = `the watchdog stopped loading with ${(watchdog.signal.reason as WatchdogAbort).remainingMs} ms of the function's time left and rolled it back`;
    return handOff(ref, pipeline, object, handOver, reason, deps, logger);
  }
  deps.metrics?.count('files', 1, result.status);
  deps.metrics?.count('rows_loaded', result.rowsLoaded, result.status);
  deps.metrics?.count('rows_rejected', result.rowsRejected, result.status);
  await deps.notifier?.ingestionFinished(result);
  if (result.status === 'loaded' || result.status === 'rejected' || result.status === 'duplicate') {
    await markObject(ref, pipeline, result, deps).catch((error: unknown) =>
      logger.warn('the object loaded but could not be marked', { error }),
    );
  }
  return { ref, status: result.status, result, retry: result.status === 'failed' };
}

/** An object past every limit: `rejected` in the ledger with the limit to raise, and acknowledged. */
async function rejectTooLarge(
  ref: ObjectRef,
  pipeline: Pipeline,
  object: HandedObject,
  message: string,
  deps: HandlerDeps,
  logger: Logger,
): Promise<ObjectOutcome> {
  const ingestionId = await recordTooLarge(deps.pool, pipeline, object, message);
  logger.warn('rejected: too big for the function and for the task', { ingestionId, reason: message });
  deps.metrics?.count('files', 1, 'rejected');
  return { ref, status: 'rejected', retry: false };
}

/** Records the hand-over and starts the runner, once per object (hand-over-ledger.ts). */
async function handOff(
  ref: ObjectRef,
  pipeline: Pipeline,
  object: HandedObject,
  handOver: HandOver,
  reason: string,
  deps: HandlerDeps,
  logger: Logger,
): Promise<ObjectOutcome> {
  const handed = await handOverOnce(deps.pool, pipeline, object, handOver, reason);
  if (handed.kind === 'started') {
    logger.info('handed over: too big to load in this function', {
      ingestionId: handed.ingestionId,
      ranOn: handOver.ranOn,
      runId: handed.runId,
      reason,
    });
    deps.metrics?.count('files_handed_over', 1);
  } else {
    logger.info('already handed over by an earlier delivery: nothing started', {
      ingestionId: handed.ingestionId,
      status: handed.status,
    });
  }
  return { ref, status: 'handed_over', retry: false };
}

/** The source, whose streams end with the watchdog's error when it fires, even while a read is stalled. */
function abortable(source: ObjectSource, signal: AbortSignal): ObjectSource {
  const guard = (body: Readable): Readable => {
    const stop = () => body.destroy(signal.reason as Error);
    if (signal.aborted) stop();
    else {
      signal.addEventListener('abort', stop, { once: true });
      body.once('close', () => signal.removeEventListener('abort', stop));
    }
    return body;
  };
  return {
    ...source,
    open: async () => guard(await source.open()),
    ...(source.openRange
      ? {
          openRange: async (start: number, end: number) =>
            guard(await (source.openRange as NonNullable<ObjectSource['openRange']>)(start, end)),
        }
      : {}),
  };
}

/** `afterLoad: tag` labels the object; `move` copies it under processed/ or rejected/ and deletes it. */
async function markObject(
  ref: ObjectRef,
  pipeline: Pipeline,
  result: IngestResult,
  deps: HandlerDeps,
): Promise<void> {
  if (pipeline.afterLoad === 'tag') {
    await deps.store.tag(ref.bucket, ref.key, {
      'inlet-status': result.status,
      ...(result.ingestionId ? { 'inlet-ingestion': result.ingestionId } : {}),
    });
  } else if (pipeline.afterLoad === 'move') {
    const prefix = result.status === 'rejected' ? REJECTED_PREFIX : PROCESSED_PREFIX;
    await deps.store.copy(ref.bucket, ref.key, `${prefix}${ref.key}`);
    await deps.store.delete(ref.bucket, ref.key);
  }
}
