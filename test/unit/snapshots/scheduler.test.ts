import { describe, expect, it } from 'vitest';
import { SnapshotError } from '../../../src/snapshots/errors.js';
import type {
  CreateOptions,
  PruneReport,
  SnapshotProvider,
  SnapshotSummary,
} from '../../../src/snapshots/provider.js';
import type { RetentionRules } from '../../../src/snapshots/retention.js';
import type { RunOutcome, RunRecorder, RunStart } from '../../../src/snapshots/runs.js';
import { SnapshotScheduler } from '../../../src/snapshots/scheduler.js';

class FakeProvider implements SnapshotProvider {
  readonly kind = 'archive' as const;
  readonly target = 'file:///fake';
  creates = 0;
  running = 0;
  maxRunning = 0;
  prunes: RetentionRules[] = [];
  fail: Error | undefined;
  pruneFail: Error | undefined;
  delayMs = 0;

  async create(options: CreateOptions = {}): Promise<SnapshotSummary> {
    this.creates++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      const deadline = Date.now() + this.delayMs;
      while (Date.now() < deadline) {
        if (options.signal?.aborted) throw new SnapshotError('aborted', 'stopped');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (this.fail) throw this.fail;
      return {
        id: `s${this.creates}`,
        createdAt: new Date(),
        provider: 'archive',
        files: 2,
        bytes: 10,
        bytesUploaded: 4,
      };
    } finally {
      this.running--;
    }
  }
  async list(): Promise<SnapshotSummary[]> {
    return [];
  }
  async verify(): Promise<never> {
    throw new Error('unused');
  }
  async restore(): Promise<never> {
    throw new Error('unused');
  }
  async prune(rules: RetentionRules): Promise<PruneReport> {
    this.prunes.push(rules);
    if (this.pruneFail) throw this.pruneFail;
    return {
      kept: [],
      deleted: [
        { id: 'old', createdAt: new Date(0), provider: 'archive', files: 0, bytes: 0, bytesUploaded: 0 },
      ],
      chunksDeleted: 3,
      bytesFreed: 9,
    };
  }
  close(): void {}
}

class MemoryRecorder implements RunRecorder {
  runs = new Map<string, RunStart & Omit<Partial<RunOutcome>, 'status'> & { status: string }>();
  locked = false;
  async tryLock() {
    if (this.locked) return undefined;
    this.locked = true;
    return async () => {
      this.locked = false;
    };
  }
  async abandonStale() {
    let n = 0;
    for (const run of this.runs.values()) {
      if (run.status !== 'running') continue;
      run.status = 'abandoned';
      n++;
    }
    return n;
  }
  async start(run: RunStart) {
    this.runs.set(run.id, { ...run, status: 'running' });
  }
  async finish(id: string, outcome: RunOutcome) {
    this.runs.set(id, { ...(this.runs.get(id) as RunStart), ...outcome });
  }
}

const RULES = { last: 2 };

describe('SnapshotScheduler', () => {
  it('records a run, applies retention after it, and records the outcome', async () => {
    const provider = new FakeProvider();
    const recorder = new MemoryRecorder();
    const scheduler = new SnapshotScheduler({ provider, schedule: '0 * * * *', retention: RULES, recorder });
    const result = await scheduler.runNow();
    expect(result.status).toBe('succeeded');
    expect(provider.prunes).toEqual([RULES]);
    expect([...recorder.runs.values()]).toEqual([
      expect.objectContaining({
        trigger: 'manual',
        provider: 'archive',
        target: 'file:///fake',
        status: 'succeeded',
        snapshotId: 's1',
        files: 2,
        bytes: 10,
        bytesUploaded: 4,
        pruned: 1,
      }),
    ]);
    expect(recorder.locked).toBe(false);
  });

  it('records failures, and a retention failure beside a good snapshot', async () => {
    const provider = new FakeProvider();
    const recorder = new MemoryRecorder();
    const scheduler = new SnapshotScheduler({ provider, schedule: '0 * * * *', retention: RULES, recorder });
    provider.fail = new SnapshotError('source_missing', 'no spool');
    expect((await scheduler.runNow()).status).toBe('failed');
    provider.fail = undefined;
    provider.pruneFail = new SnapshotError('locked', 'locked by another');
    expect((await scheduler.runNow()).status).toBe('succeeded');
    const runs = [...recorder.runs.values()];
    expect(runs[0]).toMatchObject({
      status: 'failed',
      errorCode: 'source_missing',
      errorMessage: 'no spool',
    });
    expect(runs[1]).toMatchObject({ status: 'succeeded', snapshotId: 's2', pruneError: 'locked by another' });
    expect(provider.prunes).toHaveLength(1);
  });

  it('never runs two at once: in this process, and across processes by the lock', async () => {
    const provider = new FakeProvider();
    provider.delayMs = 100;
    const recorder = new MemoryRecorder();
    const scheduler = new SnapshotScheduler({ provider, schedule: '0 * * * *', retention: RULES, recorder });
    const results = await Promise.all([scheduler.runNow(), scheduler.runNow(), scheduler.runNow()]);
    expect(results.map((r) => r.status).sort()).toEqual(['skipped', 'skipped', 'succeeded']);
    expect(provider.maxRunning).toBe(1);

    recorder.locked = true; // another process holds it
    expect((await scheduler.runNow('schedule')).status).toBe('skipped');
    expect([...recorder.runs.values()].at(-1)).toMatchObject({
      status: 'skipped',
      errorCode: 'locked',
      trigger: 'schedule',
    });
    expect(provider.creates).toBe(1);
  });

  it('marks runs a dead process left running as abandoned', async () => {
    const recorder = new MemoryRecorder();
    await recorder.start({ id: 'old', trigger: 'schedule', provider: 'archive', target: 'x' });
    const scheduler = new SnapshotScheduler({
      provider: new FakeProvider(),
      schedule: '0 * * * *',
      retention: RULES,
      recorder,
    });
    await scheduler.runNow();
    expect(recorder.runs.get('old')?.status).toBe('abandoned');
  });

  it('snapshots anyway when the database is down', async () => {
    const provider = new FakeProvider();
    const broken: RunRecorder = {
      tryLock: () => Promise.reject(new Error('ECONNREFUSED')),
      abandonStale: () => Promise.reject(new Error('ECONNREFUSED')),
      start: () => Promise.reject(new Error('ECONNREFUSED')),
      finish: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const scheduler = new SnapshotScheduler({
      provider,
      schedule: '0 * * * *',
      retention: RULES,
      recorder: broken,
    });
    expect((await scheduler.runNow()).status).toBe('succeeded');
  });

  it("fires at the cron time from an unref'd, bounded timer, and stop() aborts a run in progress", async () => {
    const provider = new FakeProvider();
    provider.delayMs = 10_000;
    const recorder = new MemoryRecorder();
    // A clock 60 ms before the next minute: the every-minute schedule is due almost at once.
    const base = Date.now();
    const nextMinute = Math.ceil((base + 1) / 60_000) * 60_000;
    const offset = nextMinute - 60 - base;
    const scheduler = new SnapshotScheduler({
      provider,
      schedule: '* * * * *',
      retention: RULES,
      recorder,
      now: () => new Date(Date.now() + offset),
      maxTimerMs: 20,
    });
    scheduler.start();
    expect(scheduler.nextRunAt?.getTime()).toBe(nextMinute);
    const deadline = Date.now() + 5000;
    while (provider.creates === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(provider.creates).toBe(1);
    expect(scheduler.running).toBe(true);
    expect(scheduler.nextRunAt?.getTime()).toBe(nextMinute + 60_000);
    const stopped = Date.now();
    await scheduler.stop();
    expect(Date.now() - stopped).toBeLessThan(2000);
    expect(scheduler.running).toBe(false);
    expect([...recorder.runs.values()][0]).toMatchObject({
      trigger: 'schedule',
      status: 'failed',
      errorCode: 'aborted',
    });
  });
});
