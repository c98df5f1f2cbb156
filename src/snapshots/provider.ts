/**
 * One interface for the two ways Inlet snapshots its spool volume: `archive` (an encrypted, incremental
 * copy of the spool directory in a bucket, for any host) and `ebs` (EBS snapshots through the EC2 API).
 * The CLI, the scheduler and the retention planner only ever see this interface.
 */
import type { RetentionRules } from './retention.js';

export type SnapshotProviderKind = 'archive' | 'ebs';

/** What `inlet snapshot create|list --json` prints, one object per snapshot (docs/snapshots.md). */
export interface SnapshotSummary {
  /** Sorts by creation time for the archive provider (`20260125T103000.123Z-9f3a1c2b`); `snap-…` for EBS. */
  readonly id: string;
  readonly createdAt: Date;
  readonly provider: SnapshotProviderKind;
  readonly files: number;
  readonly bytes: number;
  readonly bytesUploaded: number;
}

export type SnapshotReason = 'manual' | 'scheduled';

export interface CreateOptions {
  readonly reason?: SnapshotReason;
  /** Stops the run between chunks (or between polls, for EBS); the run then fails with `aborted`. */
  readonly signal?: AbortSignal;
}

export interface VerifyReport {
  readonly id: string;
  readonly files: number;
  readonly bytes: number;
  /** Distinct chunks checked (archive); 0 for EBS, which EC2 checks itself. */
  readonly chunks: number;
}

export interface RestoreOptions {
  /** Restore into a directory that already has files in it (files at the snapshot's paths are replaced). */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
}

export interface RestoreReport {
  readonly id: string;
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
}

export interface PruneOptions {
  /** Plan and report, delete nothing. */
  readonly dryRun?: boolean;
}

export interface PruneReport {
  readonly kept: readonly SnapshotSummary[];
  readonly deleted: readonly SnapshotSummary[];
  /** Chunks no kept snapshot refers to any more, deleted (archive only). */
  readonly chunksDeleted: number;
  /** Bytes of those chunks as stored. */
  readonly bytesFreed: number;
}

export interface SnapshotProvider {
  readonly kind: SnapshotProviderKind;
  /** Where the snapshots go, for messages: `s3://bucket/prefix`, `file:///dir`, or `ebs:vol-…`. */
  readonly target: string;
  create(options?: CreateOptions): Promise<SnapshotSummary>;
  /** Oldest first. */
  list(): Promise<SnapshotSummary[]>;
  verify(id: string): Promise<VerifyReport>;
  restore(id: string, dir: string, options?: RestoreOptions): Promise<RestoreReport>;
  /** Applies the retention planner and deletes what it does not keep. */
  prune(rules: RetentionRules, options?: PruneOptions): Promise<PruneReport>;
  /** Releases clients and sockets. */
  close(): void;
}

/**
 * Drains intake around the moment a snapshot is taken, for an application-consistent EBS snapshot: the
 * worker finishes what it holds and takes nothing new until `thaw`. Optional: the spool is crash-consistent
 * on its own (every state change is an atomic rename).
 */
export interface IntakeFreeze {
  freeze(): Promise<void>;
  thaw(): Promise<void>;
}

/** The `--json` object, with exactly these keys in this order. */
export function summaryJson(summary: SnapshotSummary): {
  id: string;
  createdAt: string;
  provider: SnapshotProviderKind;
  files: number;
  bytes: number;
  bytesUploaded: number;
} {
  return {
    id: summary.id,
    createdAt: summary.createdAt.toISOString(),
    provider: summary.provider,
    files: summary.files,
    bytes: summary.bytes,
    bytesUploaded: summary.bytesUploaded,
  };
}
