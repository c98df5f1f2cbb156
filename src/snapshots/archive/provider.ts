/**
 * The `archive` provider: encrypted, incremental snapshots of the spool directory in a bucket (`s3://`, or
 * `file://` for a folder), for every host that is not EC2 (and on EC2 too, where wanted).
 * See create.ts, verify.ts, restore.ts and prune.ts for each operation, and crypto.ts for the format.
 */
import type { Logger } from '../../observability/logger.js';
import { SnapshotError } from '../errors.js';
import type {
  CreateOptions,
  PruneOptions,
  PruneReport,
  RestoreOptions,
  RestoreReport,
  SnapshotProvider,
  SnapshotSummary,
  VerifyReport,
} from '../provider.js';
import type { RetentionRules } from '../retention.js';
import type { ChunkerParams } from './chunker.js';
import { createArchiveSnapshot } from './create.js';
import { type LockOptions, withLock } from './lock.js';
import { isSnapshotId, type Summary } from './manifest.js';
import { pruneArchive } from './prune.js';
import { Repository, type RepositoryLocation } from './repository.js';
import { restoreArchiveSnapshot } from './restore.js';
import { verifyArchiveSnapshot } from './verify.js';

export interface ArchiveProviderOptions {
  readonly location: RepositoryLocation;
  /** The 32-byte snapshot key (key.ts). */
  readonly key: Buffer;
  /** The directory snapshotted: the spool root. */
  readonly source: string;
  readonly logger?: Logger;
  /** Chunk sizes of a new repository (an existing one keeps its own). */
  readonly chunker?: ChunkerParams;
  /** Chunk uploads in flight at once. @default 8 */
  readonly concurrency?: number;
  readonly lock?: LockOptions;
  /** Closes the store's clients. */
  readonly close?: () => void;
}

export class ArchiveProvider implements SnapshotProvider {
  readonly kind = 'archive' as const;

  constructor(private readonly options: ArchiveProviderOptions) {}

  get target(): string {
    return this.options.location.uri;
  }

  async create(options: CreateOptions = {}): Promise<SnapshotSummary> {
    const repo = await Repository.openOrCreate(this.options.location, this.options.key, this.options.chunker);
    const summary = await withLock(
      repo,
      'shared',
      () =>
        createArchiveSnapshot(repo, {
          source: this.options.source,
          ...(this.options.logger === undefined ? {} : { logger: this.options.logger }),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          ...(this.options.concurrency === undefined ? {} : { concurrency: this.options.concurrency }),
        }),
      this.options.lock,
    );
    return toSummary(summary);
  }

  async list(): Promise<SnapshotSummary[]> {
    const repo = await Repository.open(this.options.location, this.options.key);
    if (repo === undefined) return [];
    return (await repo.summaries()).map(toSummary);
  }

  async verify(id: string): Promise<VerifyReport> {
    return verifyArchiveSnapshot(await this.repository(id), id);
  }

  async restore(id: string, dir: string, options: RestoreOptions = {}): Promise<RestoreReport> {
    return restoreArchiveSnapshot(await this.repository(id), id, dir, options);
  }

  async prune(rules: RetentionRules, options: PruneOptions = {}): Promise<PruneReport> {
    const repo = await Repository.open(this.options.location, this.options.key);
    if (repo === undefined) return { kept: [], deleted: [], chunksDeleted: 0, bytesFreed: 0 };
    const result = await withLock(
      repo,
      'exclusive',
      () =>
        pruneArchive(repo, rules, {
          ...(options.dryRun === undefined ? {} : { dryRun: options.dryRun }),
          ...(this.options.logger === undefined ? {} : { logger: this.options.logger }),
        }),
      this.options.lock,
    );
    return {
      kept: result.kept.map(toSummary),
      deleted: result.deleted.map(toSummary),
      chunksDeleted: result.chunksDeleted,
      bytesFreed: result.bytesFreed,
    };
  }

  close(): void {
    this.options.close?.();
  }

  private async repository(id: string): Promise<Repository> {
    if (!isSnapshotId(id)) {
      throw new SnapshotError(
        'snapshot_not_found',
        `"${id}" is not an archive snapshot id (they look like 20260125T103000.123Z-9f3a1c2b); list them with: inlet snapshot list`,
      );
    }
    const repo = await Repository.open(this.options.location, this.options.key);
    if (repo === undefined) {
      throw new SnapshotError('snapshot_not_found', `there are no snapshots in ${this.target} yet.`);
    }
    return repo;
  }
}

function toSummary(summary: Summary): SnapshotSummary {
  return {
    id: summary.id,
    createdAt: new Date(summary.createdAt),
    provider: 'archive',
    files: summary.files,
    bytes: summary.bytes,
    bytesUploaded: summary.bytesUploaded,
  };
}
