/**
 * The snapshot scheduler of `inlet serve` and `inlet dev`: at each time of a cron expression (five fields,
 * evaluated in the server's time zone as cron does), it takes a snapshot, applies retention, and records
 * the run and its outcome (runs.ts).
 *
 * - Never two runs at once: a tick that comes while a run is still going is skipped (logged), and across
 *   processes sharing one database an advisory lock makes the second one record a `skipped` run.
 * - The timer is unref'd (it never keeps a process alive) and armed for at most `maxTimerMs` at a time, so a
 *   clock change or a suspended laptop is noticed within that bound, and Node's 24.8-day timer limit
 *   never matters.
 * - `stop()` clears the timer, aborts a run in progress (between chunks) and waits for it, at most
 *   `stopGraceMs`; an archive snapshot cut short leaves only unreferenced chunks, which prune removes.
 * - A database that cannot be reached does not stop snapshots: the run goes on, unrecorded, and says so in
 *   the log (the backup matters more than its record).
 */
import { randomUUID } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { ConfigError, InletError } from '../errors.js';
import { type Logger, silentLogger } from '../observability/logger.js';
import type { PruneReport, SnapshotProvider, SnapshotSummary } from './provider.js';
import type { RetentionRules } from './retention.js';
import type { RunOutcome, RunRecorder, RunTrigger } from './runs.js';

export const DEFAULT_SCHEDULE = '0 * * * *';

export interface SchedulerOptions {
  readonly provider: SnapshotProvider;
  /** A validated five-field cron expression (parseSchedule). */
  readonly schedule: string;
  readonly retention: RetentionRules;
  readonly recorder?: RunRecorder;
  readonly logger?: Logger;
  readonly now?: () => Date;
  /** @default 1 hour */
  readonly maxTimerMs?: number;
  /** @default 30 s */
  readonly stopGraceMs?: number;
}

export interface RunResult {
  readonly status: RunOutcome['status'];
  readonly snapshot?: SnapshotSummary;
  readonly prune?: PruneReport;
  readonly error?: unknown;
}

/**
 * The schedule from INLET_SNAPSHOT_SCHEDULE or the config, checked: `off` turns the scheduler off
 * (undefined); anything else must be a five-field cron expression cron-parser accepts.
 */
export function parseSchedule(expression: string, origin: string): string | undefined {
  const trimmed = expression.trim();
  if (trimmed.toLowerCase() === 'off') return undefined;
  const fields = trimmed.split(/\s+/);
  let problem: string | undefined;
  if (fields.length !== 5) problem = `it has ${fields.length} field${fields.length === 1 ? '' : 's'}, not 5`;
  else {
    try {
      CronExpressionParser.parse(trimmed).next();
    } catch (error) {
      problem = (error as Error).message;
    }
  }
  if (problem !== undefined) {
    throw new ConfigError(
      'invalid_snapshot_schedule',
      `${origin} "${expression}" is not a cron expression (${problem}): use five fields, minute hour ` +
        'day-of-month month day-of-week, such as "0 * * * *" (hourly) or "30 2 * * *" (daily at 02:30), or "off".',
    );
  }
  return trimmed;
}

export class SnapshotScheduler {
  private readonly logger: Logger;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private next: Date | undefined;
  private current: Promise<RunResult> | undefined;
  private abort: AbortController | undefined;
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'snapshots' });
    this.now = options.now ?? (() => new Date());
  }

  /** When the next scheduled run is due (undefined before start or after stop). */
  get nextRunAt(): Date | undefined {
    return this.next;
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.next = this.following(this.now());
    this.arm();
    this.logger.info('snapshot scheduler started', {
      provider: this.options.provider.kind,
      target: this.options.provider.target,
      schedule: this.options.schedule,
      next: this.next.toISOString(),
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.next = undefined;
    const running = this.current;
    if (running === undefined) return;
    this.abort?.abort();
    let grace: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      grace = setTimeout(() => resolve('timeout'), this.options.stopGraceMs ?? 30_000);
      grace.unref();
    });
    const outcome = await Promise.race([running.then(() => 'done' as const), timedOut]);
    clearTimeout(grace);
    if (outcome === 'timeout') this.logger.warn('a snapshot run did not stop in time; leaving it behind');
  }

  /** Runs now, outside the schedule (also what each tick calls); skipped while a run is going. */
  runNow(trigger: RunTrigger = 'manual'): Promise<RunResult> {
    if (this.current !== undefined || this.stopped) {
      this.logger.warn(
        this.stopped
          ? 'snapshot run skipped: the scheduler is stopping'
          : 'snapshot run skipped: the previous one is still running',
        { trigger },
      );
      return Promise.resolve({ status: 'skipped' });
    }
    // Before anything is awaited, so that stop() can abort the run from its first moment.
    this.abort = new AbortController();
    const run = this.run(trigger, this.abort.signal).finally(() => {
      this.current = undefined;
      this.abort = undefined;
    });
    this.current = run;
    return run;
  }

  private arm(): void {
    if (this.stopped || this.next === undefined) return;
    const delay = Math.max(0, this.next.getTime() - this.now().getTime());
    this.timer = setTimeout(() => this.tick(), Math.min(delay, this.options.maxTimerMs ?? 3600_000));
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped || this.next === undefined) return;
    const now = this.now();
    if (now.getTime() >= this.next.getTime()) {
      this.runNow('schedule').catch((error: unknown) =>
        this.logger.error('snapshot run failed unexpectedly', { error }),
      );
      this.next = this.following(now);
    }
    this.arm();
  }

  private following(after: Date): Date {
    return CronExpressionParser.parse(this.options.schedule, { currentDate: after }).next().toDate();
  }

  private async run(trigger: RunTrigger, signal: AbortSignal): Promise<RunResult> {
    const { provider } = this.options;
    const start = { id: randomUUID(), trigger, provider: provider.kind, target: provider.target };
    let recorder = this.options.recorder;
    let release: (() => Promise<void>) | undefined;
    if (recorder !== undefined) {
      try {
        release = await recorder.tryLock();
        if (release === undefined) {
          const active = recorder;
          await this.record('record the skipped run', async () => {
            await active.start(start);
            await active.finish(start.id, {
              status: 'skipped',
              errorCode: 'locked',
              errorMessage: 'another Inlet process sharing this database was taking a snapshot',
            });
          });
          this.logger.info('snapshot run skipped: another process is taking one', { trigger });
          return { status: 'skipped' };
        }
      } catch (error) {
        this.logger.error('the database is unreachable; snapshotting anyway, without a record of the run', {
          error,
        });
        recorder = undefined;
      }
    }
    try {
      const active = recorder;
      if (active !== undefined) {
        await this.record('record the run', async () => {
          const abandoned = await active.abandonStale();
          if (abandoned > 0)
            this.logger.warn('marked runs a stopped process left unfinished', { count: abandoned });
          await active.start(start);
        });
      }
      const result = await this.snapshotAndPrune(trigger, signal);
      if (active !== undefined)
        await this.record('record the outcome', () => active.finish(start.id, outcomeOf(result)));
      return result;
    } finally {
      await release?.();
    }
  }

  private async snapshotAndPrune(trigger: RunTrigger, signal: AbortSignal): Promise<RunResult> {
    const { provider, retention } = this.options;
    let snapshot: SnapshotSummary;
    try {
      snapshot = await provider.create({ reason: trigger === 'schedule' ? 'scheduled' : 'manual', signal });
    } catch (error) {
      this.logger.error('snapshot failed', { provider: provider.kind, target: provider.target, error });
      return { status: 'failed', error };
    }
    try {
      const prune = await provider.prune(retention);
      return { status: 'succeeded', snapshot, prune };
    } catch (error) {
      this.logger.warn('snapshot taken, but retention failed; it is tried again after the next run', {
        error,
      });
      return { status: 'succeeded', snapshot, error };
    }
  }

  /** A bookkeeping step: a failure is logged, and the run goes on. */
  private async record(what: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.logger.error(`could not ${what} in the database`, { error });
    }
  }
}

function outcomeOf(result: RunResult): RunOutcome {
  const message =
    result.error instanceof Error
      ? result.error.message
      : result.error === undefined
        ? undefined
        : String(result.error);
  const code =
    result.error instanceof InletError
      ? result.error.code
      : result.error === undefined
        ? undefined
        : 'internal';
  if (result.status !== 'succeeded' || result.snapshot === undefined) {
    return {
      status: result.status,
      ...(code ? { errorCode: code } : {}),
      ...(message ? { errorMessage: message } : {}),
    };
  }
  return {
    status: 'succeeded',
    snapshotId: result.snapshot.id,
    files: result.snapshot.files,
    bytes: result.snapshot.bytes,
    bytesUploaded: result.snapshot.bytesUploaded,
    ...(result.prune === undefined ? {} : { pruned: result.prune.deleted.length }),
    ...(message === undefined ? {} : { pruneError: message }),
  };
}
