/**
 * Alarms that page through the alarm topic, each saying what to look at:
 * - the serverless shape: DLQ depth, ingest error rate, age of the oldest queued event, and files whose
 *   load failed and is retried (an SQS partial batch failure, which the function's Errors never counts);
 * - rows: the reject ratio;
 * - the database: free storage, CPU, connections near the class's limit, freeable memory; the proxy's
 *   failed client logins and failed connections to the database; failed secret rotations;
 * - backups: failed and expired AWS Backup jobs (snapshots of the spool and the database);
 * - the server shape: instance status checks, a filling spool, unhealthy targets, 5xx answers of
 *   the load balancer and of the servers, and refused SFTP sign-ins.
 */
import { Annotations, Duration } from 'aws-cdk-lib';
import type * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { defaultMaxConnections, instanceMemoryBytes } from '../database-capacity.js';
import {
  databaseMetric,
  errorRate,
  expiredBackupJobs,
  failedBackupJobs,
  inletMetric,
  instanceMetric,
  loadBalancer5xx,
  proxyMetric,
  queueDepth,
  queueLag,
  rejectRatio,
  type ServerlessTargets,
  type ServerTargets,
  server5xx,
  spoolUsedPercent,
} from './ops-metrics.js';
import { RotationFailures } from './rotation-failures.js';

export interface OpsAlarmsProps {
  readonly topic: sns.ITopic;
  readonly database: rds.IDatabaseInstance;
  /** e.g. `t4g.micro`: the connection and memory thresholds follow it. */
  readonly databaseInstanceClass: string;
  readonly databaseStorageGiB: number;
  readonly proxyName: string;
  readonly vault: backup.IBackupVault;
  /** The secrets Secrets Manager rotates; a failed rotation leaves clients unable to log in at the next one. */
  readonly rotatedSecrets: readonly secretsmanager.ISecret[];
  readonly serverless?: ServerlessTargets & { readonly functionTimeout: Duration };
  readonly server?: ServerTargets;
}

interface AlarmOptions {
  readonly threshold: number;
  readonly description: string;
  readonly evaluationPeriods?: number;
  readonly comparisonOperator?: cloudwatch.ComparisonOperator;
}

/** Share of max_connections at which connections page: the proxy itself stops at 90% (data-stack.ts). */
const CONNECTIONS_ALARM_SHARE = 0.8;
const FREEABLE_MEMORY_ALARM_SHARE = 0.1;
/**
 * Refused SFTP sign-in attempts per 5 minutes that page: a partner with a stale key retrying every minute
 * makes about 15 (three attempts a connection); a scanner makes hundreds, slowed by the door's back-off.
 */
const SFTP_FAILED_SIGN_INS_ALARM = 20;

export class OpsAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: OpsAlarmsProps,
  ) {
    super(scope, id);
    if (props.serverless) this.serverlessAlarms(props.serverless);
    this.add('RejectRatio', rejectRatio(), {
      threshold: 10,
      evaluationPeriods: 3,
      description: 'More than 10% of the rows seen were rejected for 15 minutes: a client sends bad files.',
    });
    this.databaseAlarms();
    this.proxyAlarms();
    this.secretAndBackupAlarms();
    if (props.server) this.serverAlarms(props.server);
  }

  private serverlessAlarms(serverless: ServerlessTargets & { readonly functionTimeout: Duration }): void {
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
    this.add('FailedFiles', inletMetric('files_failed'), {
      threshold: 1,
      evaluationPeriods: 2,
      description:
        'Files failed to load (database unreachable, a table missing, a permission refused) in two 5-minute ' +
        'periods running; SQS delivers each again, then to the dead-letter queue. The function logs say why. ' +
        "The function's own Errors metric does not count these: the invocation succeeds and reports them.",
    });
    this.add('FailedHandOverTasks', queueDepth(serverless.failedTasks), {
      threshold: 1,
      description:
        'A hand-over task (an object too big for the function, loaded by ECS) exited non-zero or never started: ' +
        `read the ECS event (stoppedReason, exit codes) in queue ${serverless.failedTasks.queueName} and the task's ` +
        "log group; the object's next delivery hands it over again. Purge the queue once read.",
    });
  }

  private databaseAlarms(): void {
    const { database, databaseInstanceClass: instanceClass } = this.props;
    this.add('DatabaseFreeStorage', databaseMetric(database, 'FreeStorageSpace', cloudwatch.Stats.MINIMUM), {
      threshold: Math.max(1, Math.round(this.props.databaseStorageGiB * 0.1)) * 1024 ** 3,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      description:
        'The database has less than 10% of its allocated storage free (storage autoscaling may lag).',
    });
    this.add('DatabaseCpu', databaseMetric(database, 'CPUUtilization', cloudwatch.Stats.AVERAGE), {
      threshold: 80,
      evaluationPeriods: 3,
      description: 'The database CPU stayed above 80% for 15 minutes.',
    });
    const maxConnections = defaultMaxConnections(instanceClass);
    const memory = instanceMemoryBytes(instanceClass);
    if (maxConnections === undefined || memory === undefined) {
      Annotations.of(this).addWarningV2(
        'inlet:database-capacity-alarms',
        `No connection or memory alarm for the database: the memory of instance class ${instanceClass} is not ` +
          'in infra/database-capacity.ts. Add it there.',
      );
      return;
    }
    const connections = Math.floor(maxConnections * CONNECTIONS_ALARM_SHARE);
    this.add(
      'DatabaseConnections',
      databaseMetric(database, 'DatabaseConnections', cloudwatch.Stats.MAXIMUM),
      {
        threshold: connections,
        evaluationPeriods: 2,
        description:
          `The database held ${connections} connections or more (about 80% of what a ${instanceClass} accepts) ` +
          'for 10 minutes: RDS Proxy will soon make clients wait. Look for pinned sessions, or a larger class.',
      },
    );
    const freeable = Math.round(memory * FREEABLE_MEMORY_ALARM_SHARE);
    this.add('DatabaseFreeableMemory', databaseMetric(database, 'FreeableMemory', cloudwatch.Stats.MINIMUM), {
      threshold: freeable,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      description:
        `The database had less than 10% of its memory free (${Math.round(freeable / 1024 ** 2)} MiB) for 15 ` +
        'minutes: it will swap, then slow down; a larger class is the cure.',
    });
  }

  private proxyAlarms(): void {
    const { proxyName } = this.props;
    this.add(
      'ProxyClientLoginFailures',
      proxyMetric(proxyName, 'ClientConnectionsSetupFailedAuth', cloudwatch.Stats.SUM),
      {
        threshold: 5,
        evaluationPeriods: 2,
        description:
          'Clients failed to log in to RDS Proxy for 10 minutes: a password that no longer matches its secret ' +
          '(a failed rotation), or a client with the wrong secret.',
      },
    );
    this.add(
      'ProxyDatabaseConnectFailures',
      proxyMetric(proxyName, 'DatabaseConnectionsSetupFailed', cloudwatch.Stats.SUM),
      {
        threshold: 5,
        evaluationPeriods: 2,
        description:
          'RDS Proxy failed to open connections to the database for 10 minutes: the instance is down or full, ' +
          "or a role's password in the database differs from its secret.",
      },
    );
  }

  private secretAndBackupAlarms(): void {
    const rotationFailures = new RotationFailures(this, 'RotationFailures', {
      secrets: this.props.rotatedSecrets,
    });
    this.add('SecretRotationFailed', queueDepth(rotationFailures.queue), {
      threshold: 1,
      description:
        "A database secret's rotation failed (the password may no longer match): read the event's " +
        `errorMessage in queue ${rotationFailures.queue.queueName}, fix the cause, rotate again, then purge the queue.`,
    });
    this.add('FailedBackupJobs', failedBackupJobs(this.props.vault), {
      threshold: 1,
      description: 'An AWS Backup job (spool volume snapshot or database snapshot) failed.',
    });
    this.add('ExpiredBackupJobs', expiredBackupJobs(this.props.vault), {
      threshold: 1,
      description:
        'An AWS Backup job never started within its start window, so no recovery point was made: look for ' +
        'a job that ran too long before it, or a paused plan.',
    });
  }

  private serverAlarms(server: ServerTargets): void {
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
    this.add('LoadBalancer5xx', loadBalancer5xx(server.loadBalancer), {
      threshold: 5,
      description:
        'The load balancer answered 5xx itself at least 5 times in 5 minutes: no healthy server, or servers ' +
        'that time out or close connections.',
    });
    this.add('SftpFailedSignIns', server.sftpFailedSignIns, {
      threshold: SFTP_FAILED_SIGN_INS_ALARM,
      evaluationPeriods: 2,
      description:
        `At least ${SFTP_FAILED_SIGN_INS_ALARM} SFTP sign-ins were refused in each of two 5-minute periods: ` +
        'someone guessing keys or passwords, or a partner whose key was removed or changed. The server log ' +
        'lines "sftp sign-in refused" give the address, user and reason.',
    });
    this.add('Server5xx', server5xx(server.loadBalancer), {
      threshold: 10,
      evaluationPeriods: 2,
      description:
        'The servers answered 5xx at least 10 times in each of two 5-minute periods: 503 spool_full or ' +
        'database_unavailable, or 500 internal (the server log says which).',
    });
  }

  private add(id: string, metric: cloudwatch.IMetric, options: AlarmOptions): void {
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
