/**
 * The deadline watchdog: Lambda kills a function at its timeout, mid-load, and SQS would deliver the file
 * into the same death again. The watchdog aborts the load well before that — the engine rolls its
 * transaction back — so that the handler can hand the file over instead.
 */

import { InletError } from '../errors.js';

/** The least margin kept before the timeout: time to roll back, record the hand-over and start the task. */
export const MIN_MARGIN_MS = 30_000;
/** Of a long timeout, this share is kept back: a fifth of 15 minutes is 3. */
export const MARGIN_SHARE = 0.2;

/** How long before the end loading stops: at least 30 s or a fifth of the time, but never more than half. */
export function watchdogMarginMs(remainingMs: number): number {
  return Math.min(remainingMs / 2, Math.max(MIN_MARGIN_MS, remainingMs * MARGIN_SHARE));
}

export interface Watchdog {
  /** Aborted with a WatchdogAbort, which carries the milliseconds left when it fired. */
  readonly signal: AbortSignal;
  stop(): void;
}

/** Arms a watchdog on `remainingMs` (the invocation's `context.getRemainingTimeInMillis`). */
export function startWatchdog(remainingMs: () => number): Watchdog {
  const controller = new AbortController();
  const start = remainingMs();
  const timer = setTimeout(
    () => controller.abort(new WatchdogAbort(remainingMs())),
    Math.max(0, start - watchdogMarginMs(start)),
  );
  timer.unref();
  return {
    signal: controller.signal,
    stop: () => clearTimeout(timer),
  };
}

/** Why the load stopped; the engine's rollback reports it as a failed attempt the handler then hands over. */
export class WatchdogAbort extends InletError {
  constructor(readonly remainingMs: number) {
    super(
      'watchdog_stopped',
      `Stopped loading with ${remainingMs} ms of the Lambda function's time left, before its timeout, and rolled ` +
        'back: the object is handed to the ECS task, which loads it under this ingestion.',
    );
  }
}
