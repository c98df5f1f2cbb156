/**
 * Repository locks, as restic keeps them: an object under `locks/` per holder. `create` holds a shared lock
 * (any number at once); `prune` holds an exclusive one, because it deletes chunks no snapshot refers to,
 * and a create in progress refers to chunks its manifest does not name yet.
 *
 * Acquiring writes the lock object first, then lists `locks/`: of two processes racing, at least one sees
 * the other (S3 lists are strongly consistent since 2020, and so are the file store's), and a conflict
 * makes the later one back off. A holder rewrites its lock every few minutes; one untouched for longer
 * than `staleMs` belongs to a process that died, and is ignored (and removed by the next prune).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { SnapshotError } from '../errors.js';
import { keys } from './manifest.js';
import type { Repository } from './repository.js';

export type LockKind = 'shared' | 'exclusive';

export interface LockOptions {
  /** @default 30 minutes */
  readonly staleMs?: number;
  /** @default 5 minutes */
  readonly refreshMs?: number;
  /** Attempts before giving up with `locked`. @default 4 */
  readonly attempts?: number;
  /** First wait between attempts, doubled each time. @default 500 ms */
  readonly retryMs?: number;
}

interface LockBody {
  readonly kind: LockKind;
  readonly host: string;
  readonly pid: number;
  readonly createdAt: string;
}

const DEFAULTS = { staleMs: 30 * 60_000, refreshMs: 5 * 60_000, attempts: 4, retryMs: 500 };

export async function withLock<T>(
  repo: Repository,
  kind: LockKind,
  work: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const settings = { ...DEFAULTS, ...options };
  const prefix = keys.lockPrefix(repo.location.prefix);
  const key = `${prefix}${kind}-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  const body: LockBody = { kind, host: hostname(), pid: process.pid, createdAt: new Date().toISOString() };
  const write = () =>
    repo.location.store.put(repo.location.bucket, key, JSON.stringify(body), {
      contentType: 'application/json',
    });

  let conflict: string | undefined;
  for (let attempt = 0; attempt < settings.attempts; attempt++) {
    if (attempt > 0) await sleep(settings.retryMs * 2 ** (attempt - 1));
    await write();
    conflict = await findConflict(repo, prefix, key, kind, settings.staleMs);
    if (conflict === undefined) break;
    await repo.delete(key);
  }
  if (conflict !== undefined) {
    throw new SnapshotError(
      'locked',
      `${repo.uri} is locked by another Inlet process (${conflict}) ` +
        `${kind === 'exclusive' ? 'creating or pruning snapshots' : 'pruning snapshots'}: try again once it is done. ` +
        `A lock left by a process that died expires after ${Math.round(settings.staleMs / 60_000)} minutes.`,
    );
  }

  const refresher = setInterval(() => {
    write().catch(() => undefined);
  }, settings.refreshMs);
  refresher.unref();
  try {
    return await work();
  } finally {
    clearInterval(refresher);
    await repo.delete(key).catch(() => undefined);
  }
}

/** A description of a live lock that conflicts with ours, or undefined. Stale locks are removed by prune. */
async function findConflict(
  repo: Repository,
  prefix: string,
  own: string,
  kind: LockKind,
  staleMs: number,
): Promise<string | undefined> {
  const now = Date.now();
  for await (const info of repo.listObjects(prefix)) {
    if (info.key === own) continue;
    const name = info.key.slice(prefix.length);
    const theirs: LockKind = name.startsWith('exclusive-') ? 'exclusive' : 'shared';
    if (kind === 'shared' && theirs === 'shared') continue;
    const age = now - (info.lastModified?.getTime() ?? now);
    if (age > staleMs) {
      if (kind === 'exclusive') await repo.delete(info.key).catch(() => undefined);
      continue;
    }
    const holder = await describeHolder(repo, info.key);
    return `${theirs} lock ${name}${holder}`;
  }
  return undefined;
}

async function describeHolder(repo: Repository, key: string): Promise<string> {
  try {
    const body = JSON.parse((await repo.getBytes(key)).toString('utf8')) as Partial<LockBody>;
    return ` held by pid ${String(body.pid)} on ${String(body.host)} since ${String(body.createdAt)}`;
  } catch {
    return '';
  }
}
