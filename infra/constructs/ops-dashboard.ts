/**
 * One CloudWatch dashboard for both shapes: files, rows and rejects, lag and errors, DLQ depth, the
 * function's duration and throttles, RDS CPU and connections, the servers' health and spool, backups.
 */
import { Duration } from 'aws-cdk-lib';
import type * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import {
  databaseMetric,
  errorRate,
  failedBackupJobs,
  INLET_METRICS,
  inletMetric,
  instanceMetric,
  queueDepth,
  queueLag,
  rejectRatio,
  type ServerlessTargets,
  type ServerTargets,
  spoolUsedPercent,
} from './ops-metrics.js';

export interface OpsDashboardProps {
  readonly database: rds.IDatabaseInstance;
  readonly proxyName: string;
  readonly vault: backup.IBackupVault;
  readonly serverless?: ServerlessTargets;
  readonly server?: ServerTargets;
}

const WIDTH = 8;

export class OpsDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: OpsDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(24),
    });
    const { serverless, server, database } = props;
    this.dashboard.addWidgets(
      graph(
        'Files and rows (both shapes)',
        INLET_METRICS.map((name) => inletMetric(name)),
      ),
      graph('Rejected rows %', [rejectRatio()]),
      graph('Lag (s): oldest queued event; upload to commit p50, p99', [
        ...(serverless ? [queueLag(serverless.queue)] : []),
        ...(server ? [inletMetric('lag', 'p50'), inletMetric('lag', 'p99')] : []),
      ]),
    );
    if (serverless) {
      const fn = serverless.function;
      this.dashboard.addWidgets(
        graph('Ingest function errors', [errorRate(fn), fn.metricErrors({ statistic: 'Sum' })]),
        graph('Queue and dead-letter queue depth', [
          queueDepth(serverless.queue),
          queueDepth(serverless.deadLetterQueue),
        ]),
        graph('Function duration (ms) and throttles', [
          fn.metricDuration({ statistic: 'p50' }),
          fn.metricDuration({ statistic: 'p99' }),
          fn.metricThrottles({ statistic: 'Sum' }),
        ]),
      );
    }
    this.dashboard.addWidgets(
      graph('Database CPU %', [databaseMetric(database, 'CPUUtilization', 'Average')]),
      graph('Database connections (instance and proxy clients)', [
        databaseMetric(database, 'DatabaseConnections', 'Maximum'),
        new cloudwatch.Metric({
          namespace: 'AWS/RDS',
          metricName: 'ClientConnections',
          dimensionsMap: { ProxyName: props.proxyName },
          statistic: 'Maximum',
        }),
      ]),
      graph('Database free storage (bytes)', [databaseMetric(database, 'FreeStorageSpace', 'Minimum')]),
    );
    if (server) {
      this.dashboard.addWidgets(
        graph(
          'Servers: failed status checks',
          server.instances.map((instance) => instanceMetric(instance, 'StatusCheckFailed', 'Maximum')),
        ),
        graph('Servers: healthy and unhealthy targets, 5xx', [
          server.targetGroup.metrics.healthyHostCount(),
          server.targetGroup.metrics.unhealthyHostCount(),
          server.loadBalancer.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT),
        ]),
        graph(
          'Servers: spool used %',
          server.instances.map((instance) => spoolUsedPercent(instance)),
        ),
      );
    }
    this.dashboard.addWidgets(graph('Failed backup jobs', [failedBackupJobs(props.vault)]));
  }
}

function graph(title: string, metrics: cloudwatch.IMetric[]): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left: metrics, width: WIDTH, height: 6 });
}
