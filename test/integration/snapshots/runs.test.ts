/**
 * The scheduler's run records on a real PostgreSQL (migration 004): each run and its outcome, the lock
 * that keeps two processes from snapshotting at once, and runs left behind by a process that died.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveProvider } from '../../../src/snapshots/archive/provider.js';
import { PgRunRecorder, recentSnapshotRuns } from '../../../src/snapshots/runs.js';
import { SnapshotScheduler } from '../../../src/snapshots/scheduler.js';
import { openTarget } from '../../../src/snapshots/target.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase({ max: 6 });
  dir = await mkdtemp(join(tmpdir(), 'inlet-snapshot-runs-'));
  await mkdir(join(dir, 'spool', 'done', 'entry'), { recursive: true });
  await writeFile(join(dir, 'spool', 'done', 'entry', 'data'), 'a,b\n1,2\n');
  await writeFile(join(dir, 'spool', 'done', 'entry', 'meta.json'), '{}');
});

afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const provider = (source = join(dir, 'spool')) =>
  new ArchiveProvider({
    location: openTarget(`file://${join(dir, 'snapshots')}`, { s3: () => undefined as never }).location,
    key: Buffer.alloc(32, 9),
    source,
  });

describe('snapshot runs in inlet.snapshot_runs', () => {
  it('records each run with its outcome, newest first', async () => {
    const ok = new SnapshotScheduler({
      provider: provider(),
      schedule: '0 * * * *',
      retention: { last: 1 },
      recorder: new PgRunRecorder(db.pool),
    });
    const first = await ok.runNow('schedule');
    await ok.runNow('schedule');
    const broken = new SnapshotScheduler({
      provider: provider(join(dir, 'no-such-spool')),
      schedule: '0 * * * *',
      retention: { last: 1 },
      recorder: new PgRunRecorder(db.pool),
    });
    expect((await broken.runNow()).status).toBe('failed');

    const runs = await recentSnapshotRuns(db.pool);
    expect(runs).toHaveLength(3);
    expect(runs[0]).toMatchObject({
      trigger: 'manual',
      provider: 'archive',
      status: 'failed',
      errorCode: 'source_missing',
      errorMessage: expect.stringMatching(/no-such-spool/),
    });
    expect(runs[1]).toMatchObject({ status: 'succeeded', trigger: 'schedule', files: 2, pruned: 1 });
    expect(runs[2]).toMatchObject({
      status: 'succeeded',
      snapshotId: first.snapshot?.id,
      files: 2,
      bytes: 10,
      bytesUploaded: expect.any(Number),
      pruned: 0,
      finishedAt: expect.any(Date),
    });
  });

  it('lets one process at a time run, and the other records a skipped run', async () => {
    const holder = new PgRunRecorder(db.pool);
    const release = await holder.tryLock();
    expect(release).toBeTypeOf('function');
    try {
      expect(await new PgRunRecorder(db.pool).tryLock()).toBeUndefined();
      const other = new SnapshotScheduler({
        provider: provider(),
        schedule: '0 * * * *',
        retention: { last: 1 },
        recorder: new PgRunRecorder(db.pool),
      });
      expect((await other.runNow('schedule')).status).toBe('skipped');
      expect((await recentSnapshotRuns(db.pool, 1))[0]).toMatchObject({
        status: 'skipped',
        errorCode: 'locked',
      });
    } finally {
      await release?.();
    }
    const again = await new PgRunRecorder(db.pool).tryLock();
    expect(again).toBeTypeOf('function');
    await again?.();
  });

  it('marks a run left running by a process that died as abandoned', async () => {
    const recorder = new PgRunRecorder(db.pool);
    const id = randomUUID();
    await recorder.start({ id, trigger: 'schedule', provider: 'archive', target: 'file:///x' });
    expect(await recorder.abandonStale()).toBe(1);
    const [row] = (await recentSnapshotRuns(db.pool, 10)).filter((run) => run.id === id);
    expect(row).toMatchObject({ status: 'abandoned', errorCode: 'abandoned', finishedAt: expect.any(Date) });
  });
});
