import type { Door, ErrorCodeInfo, ErrorCodeSection } from './entry.js';

/** `inlet snapshot …` and the server's snapshot scheduler. */
const doors: readonly Door[] = ['cli', 'upload'];

/** Snapshots of the spool (docs/snapshots.md): making, verifying and restoring them, and their settings. */
export const snapshotCodes = {
  title: 'Snapshots',
  intro:
    "From `inlet snapshot …` (printed, exit 1 or 2) and from the server's scheduled runs, which keep the " +
    'code in inlet.snapshot_runs (`GET /v1/snapshots` shows it as `error.code`). See ' +
    '[snapshots.md](snapshots.md).',
  codes: {
    snapshot_not_found: {
      meaning: 'There is no snapshot of that id at the target (or the id does not have the shape of one).',
      action: 'List them with `inlet snapshot list`.',
      doors,
    },
    no_repository: {
      meaning:
        'The target holds no Inlet snapshot repository, one that cannot be read or created, or one in a format version this Inlet does not read.',
      action: 'Check INLET_SNAPSHOT_TARGET; upgrade Inlet if the message says so.',
      doors,
    },
    wrong_key: {
      meaning: 'The snapshot key does not open the snapshots at the target.',
      action: 'Use the key they were made with (INLET_SNAPSHOT_KEY or INLET_SNAPSHOT_KEY_FILE).',
      doors,
    },
    chunk_missing: {
      meaning: 'A piece of a snapshot is missing from the target.',
      action:
        'The snapshot cannot be restored whole; restore an older one, and check what deletes objects at the target.',
      doors,
    },
    chunk_tampered: {
      meaning:
        'A piece of a snapshot, or a restored file, does not match what the snapshot recorded: modified, damaged or replaced.',
      action: 'Restore another snapshot, and find out who can write to the target.',
      doors,
    },
    manifest_tampered: {
      meaning: "A snapshot's list of files is missing, invalid, or not the one its summary names.",
      action: 'Restore another snapshot, and find out who can write to the target.',
      doors,
    },
    verify_failed: {
      meaning:
        '`inlet snapshot verify` found problems (listed in the message), or an EBS snapshot is not completed.',
      action: 'Restore another snapshot; for EBS, wait until it completes.',
      doors,
    },
    restore_target_not_empty: {
      meaning: 'The folder to restore into is not empty, or is a file.',
      action: 'Restore into a new or empty folder, or pass `--force` to write over what is there.',
      doors: ['cli'],
    },
    restore_failed: {
      meaning: 'A restore stopped at a file it could not fetch; nothing half-written was left.',
      action: 'Read the reason in the message; try again, or restore another snapshot.',
      doors: ['cli'],
    },
    source_missing: {
      meaning: 'The spool folder to snapshot does not exist or is not a folder.',
      action: 'Check INLET_SPOOL_DIR (or INLET_DATA_DIR).',
      doors,
    },
    locked: {
      meaning:
        'Another Inlet process is making or pruning snapshots of this repository or database; a scheduled run is recorded `skipped`.',
      action: 'Try again once it is done; a lock left by a process that died expires.',
      doors,
    },
    aborted: {
      meaning: 'The snapshot run was stopped (the server shut down).',
      action: 'Nothing: the next scheduled run makes a new one.',
      doors,
    },
    abandoned: {
      meaning:
        'The process running a snapshot stopped before it finished; found and recorded at the next start.',
      action: 'Nothing: the next run makes a new snapshot. Check why the process stopped.',
      doors: ['upload'],
    },
    ebs_failed: {
      meaning: 'EC2 refused or failed an EBS snapshot call.',
      action: 'Read the EC2 error in the message (often a missing IAM permission).',
      doors,
    },
    ebs_timeout: {
      meaning: 'An EBS snapshot is not completed after the time Inlet waits; EC2 goes on making it.',
      action: 'Wait: `inlet snapshot list` shows it once it is completed.',
      doors,
    },
    imds_unavailable: {
      meaning:
        'The EC2 instance metadata cannot be read (not on EC2, or the hop limit is too low for a container).',
      action: 'Set INLET_SNAPSHOT_VOLUME_ID and AWS_REGION, or use INLET_SNAPSHOT_PROVIDER=archive.',
      doors,
    },
    volume_not_found: {
      meaning: 'Inlet cannot tell which EBS volume is the spool.',
      action: 'Set INLET_SNAPSHOT_VOLUME_ID, or tag the spool volume as the message says.',
      doors,
    },
    snapshot_key_missing: {
      meaning: 'Archive snapshots need a key and none is set.',
      action:
        'Put base64 of 32 random bytes (`openssl rand -base64 32`) in INLET_SNAPSHOT_KEY or a file named by INLET_SNAPSHOT_KEY_FILE, and keep a copy away from the target.',
      doors,
    },
    snapshot_key_invalid: {
      meaning: 'The snapshot key is not base64 of 32 bytes.',
      action: 'Make one with `openssl rand -base64 32`.',
      doors,
    },
    snapshot_key_unreadable: {
      meaning: 'The snapshot key file cannot be read.',
      action: "Check INLET_SNAPSHOT_KEY_FILE and the file's permissions.",
      doors,
    },
    snapshot_key_beside_data: {
      meaning:
        'The snapshot key file is inside a folder that is snapshotted or holds the snapshots, where it protects nothing.',
      action: 'Move it elsewhere and point INLET_SNAPSHOT_KEY_FILE at it.',
      doors,
    },
    invalid_snapshot_schedule: {
      meaning: 'The snapshot schedule is not a cron expression.',
      action: 'Use five fields (minute hour day-of-month month day-of-week), e.g. "0 * * * *", or "off".',
      doors,
    },
    invalid_snapshot_target: {
      meaning: 'INLET_SNAPSHOT_TARGET is not usable.',
      action: 'Use `s3://bucket[/prefix]` or `file:///absolute/dir`.',
      doors,
    },
  },
} as const satisfies ErrorCodeSection<Record<string, ErrorCodeInfo>>;
