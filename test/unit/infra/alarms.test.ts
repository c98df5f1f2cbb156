/**
 * The alarms a first production deployment needs, on the default deployment (both shapes): each on the
 * metric AWS (or Inlet) actually publishes, with the dimensions it publishes it under, since an alarm on
 * a misspelt name or dimension never fires; thresholds that follow the database's instance class.
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { defaultMaxConnections, instanceMemoryBytes } from '../../../infra/database-capacity.js';
import { PATHS } from '../../../infra/server-files.js';
import { flatten, resourcesOf, synthInlet } from './harness.js';

const inlet = synthInlet();
const extensions = inlet.template(inlet.stacks.extensions);
const alarms = resourcesOf(extensions, 'AWS::CloudWatch::Alarm');

function alarm(name: string): Record<string, unknown> {
  const found = alarms.filter((one) => one.id.startsWith(`Alarm${name}`));
  if (found.length !== 1) throw new Error(`expected one alarm ${name}, found ${found.length}`);
  return found[0]?.properties ?? {};
}

/** Dimension name → value, flattened (`${Ref:X}`, `${InletData:Output}`). */
function dimensions(properties: Record<string, unknown>): Record<string, string> {
  const list = (properties.Dimensions ?? []) as Array<{ Name: string; Value: unknown }>;
  return Object.fromEntries(list.map((one) => [one.Name, flatten(one.Value)]));
}

describe('database and proxy alarms', () => {
  it('pages at 80% of the connections a t4g.micro accepts, and below 10% of its memory free', () => {
    const connections = alarm('DatabaseConnections');
    expect(connections).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'DatabaseConnections',
      Statistic: 'Maximum',
      Threshold: 67,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(dimensions(connections).DBInstanceIdentifier).toMatch(/InletData:.*Database/);
    const memory = alarm('DatabaseFreeableMemory');
    expect(memory).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'FreeableMemory',
      Threshold: Math.round(1024 ** 3 / 10),
      ComparisonOperator: 'LessThanThreshold',
    });
    expect(alarm('DatabaseFreeStorage')).toMatchObject({ MetricName: 'FreeStorageSpace' });
  });

  it("watches the proxy's failed client logins and failed connections to the database, by proxy name", () => {
    for (const [name, metric] of [
      ['ProxyClientLoginFailures', 'ClientConnectionsSetupFailedAuth'],
      ['ProxyDatabaseConnectFailures', 'DatabaseConnectionsSetupFailed'],
    ]) {
      const properties = alarm(name as string);
      expect(properties).toMatchObject({ Namespace: 'AWS/RDS', MetricName: metric, Statistic: 'Sum' });
      expect(Object.keys(dimensions(properties))).toEqual(['ProxyName']);
      expect(dimensions(properties).ProxyName).toMatch(/InletData:.*Proxy/);
    }
  });
});

describe('ingestion, backup and server alarms', () => {
  it("alarms on Inlet's own failed-files metric, as the function emits it", () => {
    const properties = alarm('FailedFiles');
    expect(properties).toMatchObject({
      Namespace: 'Inlet',
      MetricName: 'files_failed',
      Statistic: 'Sum',
      Threshold: 1,
      EvaluationPeriods: 2,
    });
    expect(dimensions(properties)).toEqual({ service: 'inlet' });
  });

  it('alarms on failed and on expired backup jobs of the vault', () => {
    for (const [name, metric] of [
      ['FailedBackupJobs', 'NumberOfBackupJobsFailed'],
      ['ExpiredBackupJobs', 'NumberOfBackupJobsExpired'],
    ]) {
      const properties = alarm(name as string);
      expect(properties).toMatchObject({ Namespace: 'AWS/Backup', MetricName: metric, Threshold: 1 });
      expect(Object.keys(dimensions(properties))).toEqual(['BackupVaultName']);
    }
  });

  it("alarms on the load balancer's own 5xx and on the servers' 5xx", () => {
    const own = alarm('LoadBalancer5xx');
    const servers = alarm('Server5xx');
    expect(own).toMatchObject({ Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_ELB_5XX_Count' });
    expect(servers).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
    });
    for (const properties of [own, servers]) {
      expect(Object.keys(dimensions(properties))).toEqual(['LoadBalancer']);
      expect(dimensions(properties).LoadBalancer).toMatch(/LoadBalancer.*FullName/);
    }
  });

  it("alarms on each server's spool volume, under the dimensions the CloudWatch agent writes", () => {
    const properties = alarm('Server1SpoolFull');
    expect(properties).toMatchObject({
      Namespace: 'CWAgent',
      MetricName: 'disk_used_percent',
      Threshold: 80,
    });
    expect(dimensions(properties)).toMatchObject({ path: PATHS.spool, fstype: 'xfs' });
    expect(dimensions(properties).InstanceId).toMatch(/InletServer:.*Server1/);
  });
});

describe('thresholds that follow the instance class', () => {
  it("estimates RDS's default max_connections low, from the class's memory", () => {
    expect(instanceMemoryBytes('t4g.micro')).toBe(1024 ** 3);
    expect(instanceMemoryBytes('db.m7g.large')).toBe(8 * 1024 ** 3);
    expect(instanceMemoryBytes('r6i.4xlarge')).toBe(128 * 1024 ** 3);
    expect(defaultMaxConnections('t4g.micro')).toBe(84);
    expect(defaultMaxConnections('m7g.large')).toBe(675);
    expect(defaultMaxConnections('r6i.4xlarge')).toBe(5000);
    expect(instanceMemoryBytes('z1d.large')).toBeUndefined();
    expect(instanceMemoryBytes('t4g.nano2')).toBeUndefined();
  });

  it('says so on synth, and leaves those two alarms out, for a class whose memory it does not know', () => {
    const other = synthInlet({ shape: 'serverless', dbInstanceClass: 'z1d.large' });
    const template = other.template(other.stacks.extensions);
    const ids = resourcesOf(template, 'AWS::CloudWatch::Alarm').map((one) => one.id);
    expect(ids.some((id) => id.startsWith('AlarmDatabaseConnections'))).toBe(false);
    expect(ids.some((id) => id.startsWith('AlarmDatabaseFreeStorage'))).toBe(true);
    const warnings = Annotations.fromStack(other.stacks.extensions).findWarning(
      '*',
      Match.stringLikeRegexp('z1d\\.large'),
    );
    expect(warnings).toHaveLength(1);
  });
});
