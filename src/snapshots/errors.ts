import { InletError } from '../errors.js';

/**
 * Every failure of a snapshot operation that Inlet explains itself. Codes:
 * - `snapshot_not_found`, `no_repository`: nothing to read at the target (or no such id);
 * - `wrong_key`: the key does not open this repository;
 * - `chunk_missing`, `chunk_tampered`, `manifest_tampered`, `verify_failed`: what verify and restore find;
 * - `restore_target_not_empty`, `source_missing`, `source_changed`: the directories involved;
 * - `locked`: another process holds the repository (a prune, or a create while pruning);
 * - `aborted`: the run was stopped (shutdown);
 * - `ebs_failed`, `ebs_timeout`, `imds_unavailable`, `volume_not_found`: the EBS provider.
 */
export class SnapshotError extends InletError {}

/** Thrown between chunks once a run's AbortSignal fires, so a shutdown does not wait for a whole upload. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new SnapshotError('aborted', `${what} was stopped before it finished.`);
}
