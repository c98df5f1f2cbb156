/**
 * The SFTP door under load and at its limits: 30 OpenSSH sessions at once, each putting files, get every
 * file loaded once; a connection that sends nothing is closed after the idle timeout; an address whose
 * sign-ins keep failing is slowed down, then turned away, while other users' sessions are not affected.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { addSftpUser, type KeyPair, sftpBatch, sftpWorkspace, sshConnect } from '../../harness/sftp.js';
import { type RunningService, runService, uploadConfig } from '../../harness/upload-service.js';

const work = sftpWorkspace();
let db: TestDatabase;
let key: KeyPair;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query('CREATE SCHEMA up');
  key = work.keygen('load_ed25519');
});

afterAll(async () => {
  await db?.drop();
});

async function service(
  sftp: Partial<NonNullable<Parameters<typeof runService>[2]>['sftp']>,
): Promise<RunningService> {
  return runService(db, uploadConfig('up'), {
    sftp: {
      port: 0,
      hostKeyFile: path.join(work.dir, 'host_key'),
      maxSessionsPerUser: 10,
      idleTimeoutMs: 60_000,
      ...sftp,
    },
  });
}

describe('30 concurrent sessions', () => {
  it('load every file they put exactly once', async () => {
    const running = await service({ maxSessionsPerUser: 40 });
    try {
      await addSftpUser(db.pool, 'bulk', ['orders'], [key]);
      const port = running.service.sftp?.port as number;
      const knownHosts = work.knownHosts(path.join(work.dir, 'host_key'), port);
      const sessions = 30;
      const perSession = 3;
      for (let s = 0; s < sessions; s++) {
        for (let f = 0; f < perSession; f++) {
          const id = 100_000 + s * 10 + f;
          work.file(`bulk-${s}-${f}.csv`, `id,amount,note\n${id},1.00,session ${s}\n`);
        }
      }
      const started = Date.now();
      const runs = await Promise.all(
        Array.from({ length: sessions }, (_, s) =>
          sftpBatch({
            port,
            user: 'bulk',
            key,
            knownHosts,
            cwd: work.dir,
            timeoutMs: 90_000,
            commands: Array.from({ length: perSession }, (_, f) => `put bulk-${s}-${f}.csv /inbound/orders/`),
          }),
        ),
      );
      for (const run of runs) expect(run.stderr).toBe('');
      expect(runs.map((run) => run.code)).toEqual(Array(sessions).fill(0));
      await running.waitFinished(sessions * perSession, 90_000);
      const { rows } = await db.pool.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM inlet.ingestions
          WHERE source_uri LIKE 'sftp://bulk/inbound/orders/bulk-%' GROUP BY status`,
      );
      expect(rows).toEqual([{ status: 'loaded', n: sessions * perSession }]);
      const loaded = await db.pool.query<{ n: number; d: number }>(
        'SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM up.orders WHERE id >= 100000',
      );
      expect(loaded.rows[0]).toEqual({ n: sessions * perSession, d: sessions * perSession });
      // Bounded: generous for two shared cores, far from a hang.
      expect(Date.now() - started).toBeLessThan(120_000);
    } finally {
      await running.stop();
    }
  }, 180_000);
});

describe('limits', () => {
  it('closes a connection idle past the timeout', async () => {
    const running = await service({ idleTimeoutMs: 300 });
    try {
      await addSftpUser(db.pool, 'idler', ['orders'], [key]);
      const client = await sshConnect({
        port: running.service.sftp?.port as number,
        username: 'idler',
        privateKey: key.privateKey,
      });
      const closed = await Promise.race([
        new Promise<boolean>((resolve) => client.once('close', () => resolve(true))),
        sleep(5_000).then(() => false),
      ]);
      expect(closed).toBe(true);
    } finally {
      await running.stop();
    }
  });

  it('slows, then turns away an address whose sign-ins keep failing', async () => {
    const running = await service({ backoff: { blockAfter: 4 } });
    try {
      await addSftpUser(db.pool, 'guarded', ['orders'], [key]);
      const port = running.service.sftp?.port as number;
      const stranger = work.keygen('guess');
      const timings: number[] = [];
      for (let attempt = 0; attempt < 4; attempt++) {
        const started = Date.now();
        await expect(
          sshConnect({ port, username: 'guarded', privateKey: stranger.privateKey }),
        ).rejects.toThrow(/authentication methods failed/);
        timings.push(Date.now() - started);
        // The server counts a failure when the connection has closed on its side too.
        await sleep(100);
      }
      // After three failed connections, each refusal waits (250 ms, then doubling).
      expect(timings[3]).toBeGreaterThanOrEqual(240);
      await sleep(100);
      // Blocked now: even the right key is turned away before it can sign in.
      await expect(sshConnect({ port, username: 'guarded', privateKey: key.privateKey })).rejects.toThrow();
      const metrics = await running.service.metrics.registry.metrics();
      expect(metrics).toMatch(/^inlet_sftp_failed_signins_total 4$/m);
    } finally {
      await running.stop();
    }
  });
});
