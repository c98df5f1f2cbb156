/**
 * What a synthesis chose, in words, for stderr: the profile, then each decision that matters in production
 * and whether it came from `-c` or from the profile's defaults. `cdk synth` and `cdk deploy` print it before
 * anything is deployed, so nobody learns from the bill or an outage what the defaults were.
 */
import { TLS_POLICY } from './constructs/upload-load-balancer.js';
import type { InletSettings } from './settings.js';
import { VPC_CIDR } from './stacks/network-stack.js';

export function describeSettings(settings: InletSettings): string {
  const from = (...keys: string[]): string =>
    keys.some((key) => settings.given.has(key)) ? '-c' : `profile ${settings.profile}`;
  const on = (value: boolean): string => (value ? 'on' : 'off');
  const { database, server, backups } = settings;
  const lines = [
    `inlet: profile ${settings.profile}${settings.profile === 'default' ? ' (-c profile=production for a production deployment)' : ''}, shape ${settings.shape}`,
    `  database: db.${database.instanceClass} (${from('dbInstanceClass')}), Multi-AZ ${on(database.multiAz)} (${from('multiAz')}), ` +
      `Performance Insights ${on(database.performanceInsights)} (${from('performanceInsights')})`,
    `  protection: deletion and termination protection ${on(settings.protect)} (${from('protect')}), ` +
      `stack termination protection ${on(settings.stackTerminationProtection)} (${from('profile', 'protect')})`,
  ];
  if (settings.shape !== 'serverless') {
    const tls = server.certificateArn !== undefined;
    const clients =
      server.clientCidr ?? (server.publicLoadBalancer ? '0.0.0.0/0' : `${VPC_CIDR} (the whole VPC)`);
    lines.push(
      `  server door: ${server.publicLoadBalancer ? 'internet-facing' : 'internal'} load balancer, ` +
        (tls
          ? `HTTPS only on 443 with ${TLS_POLICY} (TLS 1.2 and later)`
          : 'plain HTTP on 80 (no certificateArn)') +
        `, clients from ${clients}`,
    );
  }
  lines.push(
    `  alarms: ${settings.alarmEmails.length > 0 ? `e-mailed to ${settings.alarmEmails.join(', ')} (confirm each subscription)` : 'published to the alarm topic, which nobody is subscribed to (-c alarmEmail=...)'}`,
    `  account-wide settings: EBS snapshot public-access block ${backups.blockSnapshotPublicAccess ? 'turned on by this app' : 'left as the account has it (-c blockSnapshotPublicAccess=true to turn it on)'}; ` +
      `API Gateway CloudWatch role ${settings.apiGatewayLoggingRole ? 'created by this app' : "the account's own (-c apiGatewayLoggingRole=true to create it)"}`,
  );
  return `${lines.join('\n')}\n`;
}
