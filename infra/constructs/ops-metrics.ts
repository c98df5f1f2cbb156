/**
 * The metrics the dashboard shows and the alarms watch. Inlet's own come from the ingest function as
 * CloudWatch Embedded Metric Format (src/serverless/lambda.ts): namespace `Inlet`, Powertools' default
 * dimension `service=inlet`, names files, files_failed, rows_loaded, rows_rejected, unroutable,
 * invalid_messages.
 * Both shapes write the same namespace and dimension, so the file and row figures add up across them.
 */
import { Duration } from 'aws-cdk-lib';
import type * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { AGENT_NAMESPACE, PATHS } from '../server-files.js';

export const INLET_NAMESPACE = 'Inlet';
export const INLET_METRICS = [
  'files',
  /** Objects whose load failed and that are delivered again (an SQS partial batch failure). */
  'files_failed',
  'rows_loaded',
  'rows_rejected',
  'unroutable',
  'invalid_messages',
] as const;
/**
 * The server (`inlet serve`) writes the same EMF lines to its log, which the CloudWatch agent ships to
 * CloudWatch Logs, where they become metrics too: files, rows_loaded, rows_rejected, plus these.
 */
export const SERVER_METRICS = ['lag', 'ingest_duration'] as const;
export type InletMetricName = (typeof INLET_METRICS)[number] | (typeof SERVER_METRICS)[number];

const PERIOD = Duration.minutes(5);

export interface ServerlessTargets {
  readonly function: lambda.IFunction;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** The ECS events of failed hand-over tasks (hand-over-task.ts). */
  readonly failedTasks: sqs.IQueue;
}

export interface ServerTargets {
  readonly instances: readonly ec2.Instance[];
  /** Refused SFTP sign-in attempts, all instances together (sftp-failed-sign-ins.ts). */
  readonly sftpFailedSignIns: cloudwatch.Metric;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
}

export function inletMetric(
  name: InletMetricName,
  statistic: string = cloudwatch.Stats.SUM,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: INLET_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: 'inlet' },
    statistic,
    period: PERIOD,
  });
}

/** Rejected rows over all rows seen, in percent; 0 when nothing was loaded. */
export function rejectRatio(): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: 'IF((loaded + rejected) > 0, 100 * rejected / (loaded + rejected), 0)',
    usingMetrics: { loaded: inletMetric('rows_loaded'), rejected: inletMetric('rows_rejected') },
    label: 'rejected rows %',
    period: PERIOD,
  });
}

/** Function errors over invocations, in percent. */
export function errorRate(fn: lambda.IFunction): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
    usingMetrics: {
      errors: fn.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      invocations: fn.metricInvocations({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
    },
    label: 'ingest errors %',
    period: PERIOD,
  });
}

export function queueLag(queue: sqs.IQueue): cloudwatch.Metric {
  return queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM });
}

export function queueDepth(queue: sqs.IQueue): cloudwatch.Metric {
  return queue.metricApproximateNumberOfMessagesVisible({
    period: PERIOD,
    statistic: cloudwatch.Stats.MAXIMUM,
  });
}

export function databaseMetric(
  database: rds.IDatabaseInstance,
  name: 'CPUUtilization' | 'DatabaseConnections' | 'FreeStorageSpace' | 'FreeableMemory',
  statistic: string,
): cloudwatch.Metric {
  return database.metric(name, { period: PERIOD, statistic });
}

export function instanceMetric(instance: ec2.Instance, name: string, statistic: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/EC2',
    metricName: name,
    dimensionsMap: { InstanceId: instance.instanceId },
    statistic,
    period: PERIOD,
  });
}

/** Refused SFTP sign-in attempts over all instances: the metric filter's `sftp_failed_signins`. */
export function sftpFailedSignIns(metricName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: INLET_NAMESPACE,
    metricName,
    statistic: cloudwatch.Stats.SUM,
    period: PERIOD,
  });
}

/** Spool volume fullness from the CloudWatch agent (see cloudWatchAgentConfig). */
export function spoolUsedPercent(instance: ec2.Instance): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: AGENT_NAMESPACE,
    metricName: 'disk_used_percent',
    dimensionsMap: { InstanceId: instance.instanceId, path: PATHS.spool, fstype: 'xfs' },
    statistic: cloudwatch.Stats.MAXIMUM,
    period: PERIOD,
  });
}

export function failedBackupJobs(vault: backup.IBackupVault): cloudwatch.Metric {
  return backupJobs(vault, 'NumberOfBackupJobsFailed');
}

/** Jobs that never started within their start window (and so made no recovery point). */
export function expiredBackupJobs(vault: backup.IBackupVault): cloudwatch.Metric {
  return backupJobs(vault, 'NumberOfBackupJobsExpired');
}

function backupJobs(vault: backup.IBackupVault, name: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Backup',
    metricName: name,
    dimensionsMap: { BackupVaultName: vault.backupVaultName },
    statistic: cloudwatch.Stats.SUM,
    period: Duration.hours(1),
  });
}

/** An RDS Proxy metric over all of the proxy's endpoints and targets. */
export function proxyMetric(
  proxyName: string,
  name: 'ClientConnections' | 'ClientConnectionsSetupFailedAuth' | 'DatabaseConnectionsSetupFailed',
  statistic: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/RDS',
    metricName: name,
    dimensionsMap: { ProxyName: proxyName },
    statistic,
    period: PERIOD,
  });
}

/** 5xx answers of the load balancer itself (no healthy target, a target that timed out or reset). */
export function loadBalancer5xx(loadBalancer: elbv2.ApplicationLoadBalancer): cloudwatch.Metric {
  return loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, {
    period: PERIOD,
    statistic: cloudwatch.Stats.SUM,
  });
}

/** 5xx answers of the servers (503 spool_full or database_unavailable, 500 internal). */
export function server5xx(loadBalancer: elbv2.ApplicationLoadBalancer): cloudwatch.Metric {
  return loadBalancer.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
    period: PERIOD,
    statistic: cloudwatch.Stats.SUM,
  });
}
