import { loadOptionalConfig } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import type { InletConfig } from '../../model/contract.js';
import { spoolDirectory } from '../../server/settings.js';
import type { SnapshotProvider, SnapshotSummary } from '../../snapshots/provider.js';
import { summaryJson } from '../../snapshots/provider.js';
import { describeRetention, keepsNothing, type RetentionRules } from '../../snapshots/retention.js';
import { openProvider, snapshotSettings } from '../../snapshots/settings.js';
import { alignedTable, formatBytes, formatCount } from '../format.js';
import { cliLogger, print } from '../output.js';
import { dataDir, namedConfig, s3Connection, snapshotEnvironment } from '../settings.js';

interface CommonOptions {
  config?: string;
  json?: boolean;
}

interface RestoreOptions extends CommonOptions {
  to: string;
  force?: boolean;
}

interface PruneOptions extends CommonOptions {
  dryRun?: boolean;
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
}

export async function runCreate(options: CommonOptions): Promise<number> {
  return withProvider(options, async (provider) => {
    const created = await provider.create({ reason: 'manual' });
    if (options.json) await print(JSON.stringify(summaryJson(created)));
    else await print(`snapshot ${created.id}: ${describe(created)} (${provider.kind}, ${provider.target})`);
    return 0;
  });
}

export async function runList(options: CommonOptions): Promise<number> {
  return withProvider(options, async (provider) => {
    const snapshots = await provider.list();
    if (options.json) {
      for (const s of snapshots) await print(JSON.stringify(summaryJson(s)));
    } else if (snapshots.length === 0) {
      await print(`no snapshots yet in ${provider.target}; take one with: inlet snapshot create`);
    } else {
      const rows = snapshots.map((s) => [
        s.id,
        s.createdAt.toISOString(),
        formatCount(s.files),
        formatBytes(s.bytes),
        formatBytes(s.bytesUploaded),
      ]);
      const columns = [
        { title: 'ID' },
        { title: 'CREATED' },
        { title: 'FILES', align: 'right' as const },
        { title: 'SIZE', align: 'right' as const },
        { title: 'UPLOADED', align: 'right' as const },
      ];
      for (const line of alignedTable(columns, rows)) await print(line);
    }
    return 0;
  });
}

export async function runVerify(id: string, options: CommonOptions): Promise<number> {
  return withProvider(options, async (provider) => {
    const report = await provider.verify(id);
    if (options.json)
      await print(
        JSON.stringify({
          id: report.id,
          ok: true,
          files: report.files,
          bytes: report.bytes,
          chunks: report.chunks,
        }),
      );
    else {
      await print(
        `snapshot ${report.id} is intact: ${formatCount(report.files)} files, ${formatBytes(report.bytes)}` +
          (report.chunks > 0 ? `, ${formatCount(report.chunks)} chunks checked` : ''),
      );
    }
    return 0;
  });
}

export async function runRestore(id: string, options: RestoreOptions): Promise<number> {
  return withProvider(options, async (provider) => {
    const report = await provider.restore(id, options.to, { force: options.force === true });
    if (options.json) {
      await print(
        JSON.stringify({ id: report.id, dir: report.dir, files: report.files, bytes: report.bytes }),
      );
    } else {
      await print(
        `restored snapshot ${report.id} into ${report.dir}: ${formatCount(report.files)} files, ${formatBytes(report.bytes)}`,
      );
    }
    return 0;
  });
}

export async function runPrune(options: PruneOptions): Promise<number> {
  return withProvider(options, async (provider, config) => {
    const overrides: RetentionRules = {
      ...(options.keepLast === undefined ? {} : { last: options.keepLast }),
      ...(options.keepDaily === undefined ? {} : { daily: options.keepDaily }),
      ...(options.keepWeekly === undefined ? {} : { weekly: options.keepWeekly }),
      ...(options.keepMonthly === undefined ? {} : { monthly: options.keepMonthly }),
    };
    const settings = settingsFor(config, Object.keys(overrides).length > 0 ? overrides : undefined);
    const report = await provider.prune(settings.retention, { dryRun: options.dryRun === true });
    if (options.json) {
      await print(
        JSON.stringify({
          dryRun: options.dryRun === true,
          kept: report.kept.map((s) => s.id),
          deleted: report.deleted.map((s) => s.id),
          chunksDeleted: report.chunksDeleted,
          bytesFreed: report.bytesFreed,
        }),
      );
      return 0;
    }
    const verb = options.dryRun ? 'would delete' : 'deleted';
    await print(`retention: ${describeRetention(settings.retention)}`);
    for (const s of report.deleted) await print(`  ${verb} ${s.id}`);
    await print(
      `${verb} ${report.deleted.length} snapshot${report.deleted.length === 1 ? '' : 's'}, kept ${report.kept.length}` +
        (provider.kind === 'archive'
          ? `; ${verb} ${formatCount(report.chunksDeleted)} unused chunks (${formatBytes(report.bytesFreed)})`
          : ''),
    );
    return 0;
  });
}

function describe(s: SnapshotSummary): string {
  return s.provider === 'ebs'
    ? `${formatBytes(s.bytes)} volume snapshot, completed`
    : `${formatCount(s.files)} files, ${formatBytes(s.bytes)}, ${formatBytes(s.bytesUploaded)} uploaded`;
}

/** The snapshot settings, with `--keep-*` replacing single rules of the configured (or default) retention. */
function settingsFor(config: InletConfig | undefined, overrides?: RetentionRules) {
  const base = snapshotSettings({
    environment: snapshotEnvironment(),
    config,
    dataDir: dataDir(),
    mode: 'cli',
  });
  if (overrides === undefined) return base;
  const retention = { ...base.retention, ...overrides };
  if (keepsNothing(retention)) {
    throw new UsageError(
      'invalid_argument',
      'that retention keeps no snapshot at all: keep at least one with --keep-*.',
    );
  }
  return { ...base, retention };
}

async function withProvider(
  options: CommonOptions,
  work: (provider: SnapshotProvider, config: InletConfig | undefined) => Promise<number>,
): Promise<number> {
  const logger = cliLogger();
  // Only `snapshots:` of the config is used: without one named or in the working directory, the defaults.
  const config = await loadOptionalConfig(namedConfig(options.config));
  const settings = settingsFor(config);
  const provider = await openProvider(settings, {
    dataDir: dataDir(),
    spoolDir: spoolDirectory(dataDir()),
    mode: 'cli',
    logger,
    s3: () => s3Connection(),
  });
  try {
    return await work(provider, config);
  } finally {
    provider.close();
  }
}
