import { type Command, InvalidArgumentError, Option } from 'commander';
import { loadOptionalConfig } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import type { InletConfig } from '../../model/contract.js';
import { spoolDirectory } from '../../server/settings.js';
import type { SnapshotProvider, SnapshotSummary } from '../../snapshots/provider.js';
import { summaryJson } from '../../snapshots/provider.js';
import { describeRetention, keepsNothing, type RetentionRules } from '../../snapshots/retention.js';
import { openProvider, snapshotSettings } from '../../snapshots/settings.js';
import type { Action } from '../action.js';
import { alignedTable, formatBytes, formatCount } from '../format.js';
import { configOption, examples, jsonOption } from '../options.js';
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

export function registerSnapshot(program: Command, action: Action): void {
  const snapshot = program
    .command('snapshot')
    .summary('snapshot the spool volume: create, list, verify, restore, prune')
    .description(
      'Snapshots of the spool (INLET_SPOOL_DIR). Provider INLET_SNAPSHOT_PROVIDER: "archive" (default off EC2) ' +
        'stores encrypted, incremental snapshots in INLET_SNAPSHOT_TARGET (s3://bucket/prefix or file:///dir, ' +
        'default file://$INLET_DATA_DIR/snapshots) with the key INLET_SNAPSHOT_KEY or INLET_SNAPSHOT_KEY_FILE; ' +
        '"ebs" (default on EC2) makes EBS snapshots of the spool volume. Retention comes from snapshots.retention ' +
        'in the config.',
    )
    .addHelpText(
      'after',
      examples(
        'inlet snapshot create',
        'inlet snapshot list --json',
        'inlet snapshot verify 20260125T103000.123Z-9f3a1c2b',
        'inlet snapshot restore 20260125T103000.123Z-9f3a1c2b --to /var/lib/inlet/spool-restored',
        'inlet snapshot prune --dry-run',
      ),
    );

  snapshot
    .command('create')
    .summary('take a snapshot now')
    .description('Take a snapshot of the spool now and print it (retention is not applied: see prune)')
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      examples(
        'inlet snapshot create',
        'INLET_SNAPSHOT_TARGET=s3://backups/inlet inlet snapshot create --json',
      ),
    )
    .action(action(runCreate));

  snapshot
    .command('list')
    .summary('list the snapshots, oldest first')
    .description('List the snapshots at the target (archive) or of the spool volume (ebs), oldest first')
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText('after', examples('inlet snapshot list', 'inlet snapshot list --json | jq -r .id'))
    .action(action(runList));

  snapshot
    .command('verify')
    .summary('check every chunk of a snapshot and its manifest')
    .description(
      'Read the whole snapshot and check it: the manifest and every chunk open under the key (authentic) ' +
        'and hold what their names promise (intact), and every file adds up to its recorded size and SHA-256. ' +
        'Exits 1 naming every damaged chunk and the files that use it.',
    )
    .argument('<id>', 'the snapshot id, as inlet snapshot list shows')
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText('after', examples('inlet snapshot verify 20260125T103000.123Z-9f3a1c2b'))
    .action(action(runVerify));

  snapshot
    .command('restore')
    .summary('rebuild a snapshot into a directory')
    .description(
      'Rebuild the snapshotted spool in DIR: every directory and file with its bytes, permissions and ' +
        'modification time. DIR must be new or empty unless --force. Stops with an error naming the chunk ' +
        'and file at the first damaged chunk (no file is left half-written). To use the result, stop the ' +
        'service and point INLET_SPOOL_DIR at DIR (or move DIR into place).',
    )
    .argument('<id>', 'the snapshot id, as inlet snapshot list shows')
    .requiredOption('--to <dir>', 'the directory to rebuild the spool in')
    .option('--force', 'write into a directory that is not empty (files at the same paths are replaced)')
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      examples('inlet snapshot restore 20260125T103000.123Z-9f3a1c2b --to ./spool-restored'),
    )
    .action(action(runRestore));

  snapshot
    .command('prune')
    .summary('delete the snapshots retention does not keep')
    .description(
      'Apply the retention policy (snapshots.retention in the config, default last 24, daily 7, weekly 4, ' +
        'monthly 6; UTC days, ISO weeks): keep what any rule keeps, delete the rest, then (archive) every ' +
        'chunk no kept snapshot uses. The scheduler does this after each run.',
    )
    .option('--dry-run', 'print what would be deleted, delete nothing')
    .addOption(keepOption('last', 'the N newest snapshots'))
    .addOption(keepOption('daily', 'the newest snapshot of each of the N newest days'))
    .addOption(keepOption('weekly', 'the newest snapshot of each of the N newest weeks'))
    .addOption(keepOption('monthly', 'the newest snapshot of each of the N newest months'))
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      examples(
        'inlet snapshot prune --dry-run',
        'inlet snapshot prune --keep-last 10 --keep-daily 30 --json',
      ),
    )
    .action(action(runPrune));
}

function keepOption(rule: string, what: string): Option {
  return new Option(`--keep-${rule} <n>`, `keep ${what} (overrides the config's ${rule})`).argParser(
    (value: string) => {
      if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number (0 or more)');
      return Number(value);
    },
  );
}

async function runCreate(options: CommonOptions): Promise<number> {
  return withProvider(options, async (provider) => {
    const created = await provider.create({ reason: 'manual' });
    if (options.json) await print(JSON.stringify(summaryJson(created)));
    else await print(`snapshot ${created.id}: ${describe(created)} (${provider.kind}, ${provider.target})`);
    return 0;
  });
}

async function runList(options: CommonOptions): Promise<number> {
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

async function runVerify(id: string, options: CommonOptions): Promise<number> {
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

async function runRestore(id: string, options: RestoreOptions): Promise<number> {
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

async function runPrune(options: PruneOptions): Promise<number> {
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
