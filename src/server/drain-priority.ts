/**
 * The drain thread yields the cores to the thread that answers uploads. A client waits between its last byte
 * and its 202; a file waits in the spool between its 202 and its load, and nobody waits on that line. On a
 * machine with fewer free cores than busy threads (the accepting thread, the drain thread, PostgreSQL's
 * backends, the file system's journal), the scheduler shared them evenly, and a burst of uploads was answered
 * at the pace the drain left it. With the drain behind, the bench's 202s a second rose against the bare
 * server's and the drain, which catches up once the burst thins, stayed well above its goal (docs/benchmarks.md,
 * "The drain behind the uploads").
 *
 * Linux keeps a nice value per thread (setpriority on a thread id affects that thread alone), so this lowers
 * the drain thread's and no other's: not the accepting thread's, not libuv's pool, not PostgreSQL's. Only
 * ever lowered, which needs no privilege. Elsewhere, where a thread id is not a process id, it does nothing.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** A nice value of 10: behind every thread at the default 0 when the cores are contended, never starved. */
export const DRAIN_THREAD_NICE = 10;

/**
 * Lowers the calling thread's scheduling priority to `nice` (Linux only). Returns the thread id it applied to,
 * or undefined where the platform has no per-thread priority or refused it.
 */
export function lowerThisThreadPriority(nice: number = DRAIN_THREAD_NICE): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    // /proc/thread-self is this thread's task directory: /proc/<pid>/task/<tid>.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isSafeInteger(tid) || tid <= 0) return undefined;
    setPriority(tid, nice);
    return tid;
  } catch {
    return undefined;
  }
}
