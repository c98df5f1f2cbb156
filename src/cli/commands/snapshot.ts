import { type Command, InvalidArgumentError, Option } from 'commander';
import { type Action, later } from '../action.js';
import { configOption, examples, jsonOption } from '../options.js';

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
    .action(action(later(async () => (await import('../run/snapshot.js')).runCreate)));

  snapshot
    .command('list')
    .summary('list the snapshots, oldest first')
    .description('List the snapshots at the target (archive) or of the spool volume (ebs), oldest first')
    .addOption(configOption())
    .addOption(jsonOption())
    .addHelpText('after', examples('inlet snapshot list', 'inlet snapshot list --json | jq -r .id'))
    .action(action(later(async () => (await import('../run/snapshot.js')).runList)));

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
    .action(action(later(async () => (await import('../run/snapshot.js')).runVerify)));

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
    .action(action(later(async () => (await import('../run/snapshot.js')).runRestore)));

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
    .action(action(later(async () => (await import('../run/snapshot.js')).runPrune)));
}

function keepOption(rule: string, what: string): Option {
  return new Option(`--keep-${rule} <n>`, `keep ${what} (overrides the config's ${rule})`).argParser(
    (value: string) => {
      if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number (0 or more)');
      return Number(value);
    },
  );
}
