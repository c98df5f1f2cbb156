/**
 * The SFTP door's refused sign-ins as a CloudWatch metric. The door counts them for Prometheus
 * (`inlet_sftp_failed_signins_total` at /metrics), which nothing on AWS scrapes; what reaches CloudWatch is
 * the service's log, shipped by the CloudWatch agent, in which each refused attempt is one JSON line
 * `"message":"sftp sign-in refused"` (src/server/sftp/server.ts). A metric filter counts those lines, the
 * way the EMF lines of finished files become metrics, without a second path out of the instances.
 * Attempts rather than connections: a client that tries three keys and fails counts three.
 */
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { INLET_NAMESPACE } from './ops-metrics.js';

/** The door's log message for one refused attempt (src/server/sftp/server.ts). */
export const SFTP_SIGN_IN_REFUSED = 'sftp sign-in refused';
export const SFTP_FAILED_SIGN_INS_METRIC = 'sftp_failed_signins';

export class SftpFailedSignIns extends Construct {
  constructor(scope: Construct, id: string, props: { readonly appLog: logs.ILogGroup }) {
    super(scope, id);
    new logs.MetricFilter(this, 'Filter', {
      logGroup: props.appLog,
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', SFTP_SIGN_IN_REFUSED),
      metricNamespace: INLET_NAMESPACE,
      metricName: SFTP_FAILED_SIGN_INS_METRIC,
      metricValue: '1',
      defaultValue: 0,
    });
  }
}
