/** The tag AWS Backup selects resources by: the Backups stack needs no reference to them. */
export const BACKUP_TAG = 'inlet:backup';

export const BackupClass = {
  /** The RDS instance: the daily plan. */
  database: 'database',
  /** The EBS spool volumes: the frequent plan. */
  spool: 'spool',
} as const;
