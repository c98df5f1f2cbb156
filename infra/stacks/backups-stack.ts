/**
 * Backups on top of RDS's own automated backups: AWS Backup plans that select by tag (the resources
 * carry `inlet:backup`, so this stack references nothing), one frequent for the spool volumes and one
 * daily for the database, schedules and retention from context; a vault that refuses recovery-point
 * deletion; and, optionally, the region's EBS snapshot block public access.
 */
import { Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { BACKUP_TAG, BackupClass } from '../backup-tags.js';
import { acknowledge } from '../nag.js';
import type { InletSettings } from '../settings.js';

export interface BackupsStackProps extends StackProps {
  readonly settings: InletSettings;
}

export class BackupsStack extends Stack {
  readonly vault: backup.BackupVault;
  readonly plans: backup.BackupPlan[] = [];

  constructor(scope: Construct, id: string, props: BackupsStackProps) {
    super(scope, id, props);
    const { backups, shape } = props.settings;
    this.vault = new backup.BackupVault(this, 'Vault', {
      // A vault needs a name and outlives the stack (until its recovery points expire): a name derived from
      // the construct path would make the next deployment after a destroy fail on "already exists". The
      // stack id's UUID is new with every stack.
      backupVaultName: `${props.settings.prefix.toLowerCase()}-${Fn.select(2, Fn.split('/', this.stackId))}`,
      // Recovery points outlive the stack; nobody, not even an administrator, deletes one before it expires.
      blockRecoveryPointDeletion: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    if (shape !== 'serverless') {
      this.addPlan('Spool', BackupClass.spool, backups.spoolSchedule, backups.spoolRetentionDays);
    }
    this.addPlan('Database', BackupClass.database, backups.databaseSchedule, backups.databaseRetentionDays);

    if (backups.blockSnapshotPublicAccess) {
      // Account-wide for this region: no EBS snapshot of this account can be shared publicly. Kept on
      // `cdk destroy`: deleting the resource would switch the block off for the whole region.
      new ec2.CfnSnapshotBlockPublicAccess(this, 'SnapshotBlockPublicAccess', {
        state: 'block-all-sharing',
      }).applyRemovalPolicy(RemovalPolicy.RETAIN);
    }
  }

  private addPlan(name: string, backupClass: string, schedule: string, retentionDays: number): void {
    const plan = new backup.BackupPlan(this, `${name}Plan`, {
      backupVault: this.vault,
      backupPlanRules: [
        new backup.BackupPlanRule({
          ruleName: `${name.toLowerCase()}-${retentionDays}d`,
          scheduleExpression: events.Schedule.expression(schedule),
          startWindow: Duration.hours(1),
          completionWindow: Duration.hours(8),
          deleteAfter: Duration.days(retentionDays),
        }),
      ],
    });
    const selection = plan.addSelection('Tagged', {
      resources: [backup.BackupResource.fromTag(BACKUP_TAG, backupClass)],
      allowRestores: false,
    });
    acknowledge(
      selection,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      "AWS Backup's own service-role policy: it covers the snapshot and tagging calls of every resource type " +
        'Backup supports and is maintained by AWS; the plan selects only resources tagged ' +
        `${BACKUP_TAG}=${backupClass}.`,
    );
    this.plans.push(plan);
  }
}
