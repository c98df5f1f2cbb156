/**
 * `prune`: deletes the snapshots the retention planner does not keep, then every object no kept snapshot
 * needs (chunks, manifests of deleted or never-finished snapshots). Holds the exclusive lock throughout,
 * so no create can be between uploading a chunk and naming it in its manifest meanwhile.
 *
 * A summary is deleted before its manifest, so a crash halfway leaves an orphan manifest (removed next
 * time), never a listed snapshot without its manifest. When a kept snapshot's manifest cannot be read,
 * nothing is collected: deleting chunks while unsure what refers to them would be the one unrecoverable bug.
 */
import type { Logger } from '../../observability/logger.js';
import { planRetention, type RetentionRules } from '../retention.js';
import { isSnapshotId, keys, type Summary } from './manifest.js';
import { mapLimit, type Repository } from './repository.js';

export interface ArchivePruneResult {
  readonly kept: readonly Summary[];
  readonly deleted: readonly Summary[];
  readonly chunksDeleted: number;
  readonly bytesFreed: number;
}

const DELETE_CONCURRENCY = 8;

export async function pruneArchive(
  repo: Repository,
  rules: RetentionRules,
  options: { readonly dryRun?: boolean; readonly logger?: Logger } = {},
): Promise<ArchivePruneResult> {
  const prefix = repo.location.prefix;
  const summaries = await repo.summaries();
  const plan = planRetention(
    summaries.map((summary) => ({ id: summary.id, createdAt: new Date(summary.createdAt), summary })),
    rules,
  );
  const kept = plan.keep.map((k) => k.snapshot.summary).reverse();
  const deleted = plan.delete.map((d) => d.summary).reverse();
  const remove = (key: string) => (options.dryRun ? Promise.resolve() : repo.delete(key));

  for (const summary of deleted) {
    await remove(keys.summary(prefix, summary.id));
    await remove(keys.manifest(prefix, summary.id));
  }

  const manifests = await mapLimit(kept, 4, (summary) => repo.manifest(summary));
  const needed = new Set(manifests.flatMap((m) => m.files.flatMap((f) => f.chunks)));
  const known = new Set(summaries.map((s) => s.id));
  const stored = await repo.chunkNames();
  const unneeded = [...stored].filter(([name]) => !needed.has(name));
  await mapLimit(unneeded, DELETE_CONCURRENCY, ([name]) => remove(keys.chunk(prefix, name)));

  const strayManifests: string[] = [];
  for await (const info of repo.listObjects(keys.manifestPrefix(prefix))) {
    const id = info.key.slice(keys.manifestPrefix(prefix).length);
    // Deleted snapshots' manifests went above (or stay, in a dry run); these belong to no snapshot at all.
    if (isSnapshotId(id) && !known.has(id)) strayManifests.push(info.key);
  }
  await mapLimit(strayManifests, DELETE_CONCURRENCY, remove);

  const result = {
    kept,
    deleted,
    chunksDeleted: unneeded.length,
    bytesFreed: unneeded.reduce((sum, [, size]) => sum + size, 0),
  };
  options.logger?.info(options.dryRun ? 'archive prune planned (dry run)' : 'archive snapshots pruned', {
    kept: kept.length,
    deleted: deleted.length,
    chunksDeleted: result.chunksDeleted,
    bytesFreed: result.bytesFreed,
  });
  return result;
}
