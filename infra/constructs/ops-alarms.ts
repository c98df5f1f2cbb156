/**
 * Alarms that page through the alarm topic: DLQ depth, ingest error rate, reject ratio, age of the
 * oldest queued event, RDS free storage and CPU, failed secret rotations, failed backup jobs (snapshots
 * of the spool and the database), and for the server shape instance status checks, unhealthy targets
 * and a filling spool.
 */
import { Duration } from 'aws-cdk-lib';
import type * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  databaseMetric,
  errorRate,
  failedBackupJobs,
  instanceMetric,
  queueDepth,
  queueLag,
  rejectRatio,
  type ServerlessTargets,
  type ServerTargets,
  spoolUsedPercent,
} from './ops-metrics.js';
import { RotationFailures } from './rotation-failures.js';

export interface OpsAlarmsProps {
  readonly topic: sns.ITopic;
  readonly database: rds.IDatabaseInstance;
  readonly databaseStorageGiB: number;
  readonly vault: backup.IBackupVault;
  /** The secrets Secrets Manager rotates; a failed rotation leaves clients unable to log in at the next one. */
  readonly rotatedSecrets: readonly secretsmanager.ISecret[];
  readonly serverless?: ServerlessTargets & { readonly functionTimeout: Duration };
  readonly server?: ServerTargets;
}

export class OpsAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: OpsAlarmsProps,
  ) {
    super(scope, id);
    const { serverless, server } = props;
    if (serverless) {
      this.add('DeadLetters', queueDepth(serverless.deadLetterQueue), {
        threshold: 1,
        description:
          'Events failed five times and wait in the dead-letter queue: look at the function logs, then redrive.',
      });
      this.add('IngestErrorRate', errorRate(serverless.function), {
        threshold: 5,
        evaluationPeriods: 3,
        description: 'More than 5% of ingest invocations failed for 15 minutes.',
      });
      this.add('OldestEvent', queueLag(serverless.queue), {
        threshold: Math.max(900, 2 * serverless.functionTimeout.toSeconds()),
        description: 'Uploads wait too long before loading: the function is failing, throttled or too slow.',
      });
    }
    this.add('RejectRatio', rejectRatio(), {
      threshold: 10,
      evaluationPeriods: 3,
      description: 'More than 10% of the rows seen were rejected for 15 minutes: a client sends bad files.',
    });
    this.add(
      'DatabaseFreeStorage',
      databaseMetric(props.database, 'FreeStorageSpace', cloudwatch.Stats.MINIMUM),
      {
        threshold: Math.max(1, Math.round(props.databaseStorageGiB * 0.1)) * 1024 ** 3,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        description:
          'The database has less than 10% of its allocated storage free (storage autoscaling may lag).',
      },
    );
    this.add('DatabaseCpu', databaseMetric(props.database, 'CPUUtilization', cloudwatch.Stats.AVERAGE), {
      threshold: 80,
      evaluationPeriods: 3,
      description: 'The database CPU stayed above 80% for 15 minutes.',
    });
    const rotationFailures = new RotationFailures(this, 'RotationFailures', {
      secrets: props.rotatedSecrets,
    });
    this.add('SecretRotationFailed', queueDepth(rotationFailures.queue), {
      threshold: 1,
      description:
        "A database secret's rotation failed (the password may no longer match): read the event's " +
        `errorMessage in queue ${rotationFailures.queue.queueName}, fix the cause, rotate again, then purge the queue.`,
    });
    this.add('FailedBackupJobs', failedBackupJobs(props.vault), {
      threshold: 1,
      description: 'An AWS Backup job (spool volume snapshot or database snapshot) failed.',
    });
    if (server) {
      server.instances.forEach((instance, index) => {
        this.add(
          `Server${index + 1}StatusCheck`,
          instanceMetric(instance, 'StatusCheckFailed', cloudwatch.Stats.MAXIMUM),
          {
            threshold: 1,
            evaluationPeriods: 2,
            description: `Inlet server ${index + 1} fails its EC2 status checks.`,
          },
        );
        this.add(`Server${index + 1}SpoolFull`, spoolUsedPercent(instance), {
          threshold: 80,
          description: `Inlet server ${index + 1}: the spool volume is more than 80% full (uploads get 503 near full).`,
        });
      });
      this.add(
        'UnhealthyServers',
        server.targetGroup.metrics.unhealthyHostCount({ period: Duration.minutes(5) }),
        {
          threshold: 1,
          evaluationPeriods: 2,
          description: 'An Inlet server fails the load balancer health check (/healthz).',
        },
      );
    }
  }

  private add(
    id: string,
    metric: cloudwatch.IMetric,
    options: {
      threshold: number;
      description: string;
      evaluationPeriods?: number;
      comparisonOperator?: cloudwatch.ComparisonOperator;
    },
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      comparisonOperator:
        options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.props.topic));
    alarm.addOkAction(new actions.SnsAction(this.props.topic));
    this.alarms.push(alarm);
  }
}
