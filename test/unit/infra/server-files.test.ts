/** What user data writes on an instance, checked as files: the environment, the unit, the operator's wrapper. */
import { describe, expect, it } from 'vitest';
import {
  cliWrapper,
  cloudWatchAgentConfig,
  environmentFile,
  PATHS,
  serviceUnit,
} from '../../../infra/server-files.js';

describe('server files', () => {
  it('gives the service its settings and the secret ARN, never a password', () => {
    const env = environmentFile({
      region: 'eu-west-1',
      databaseSecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:db',
      databaseHost: 'proxy.example',
      eventsTopicArn: 'arn:aws:sns:eu-west-1:1:events',
    });
    expect(env).toContain(`INLET_SPOOL_DIR=${PATHS.spool}`);
    expect(env).toContain('INLET_DATABASE_SECRET_ARN=arn:aws:secretsmanager:eu-west-1:1:secret:db');
    expect(env).toContain('INLET_HOST=0.0.0.0');
    expect(env).toContain('INLET_NOTIFY_TOPIC_ARN=arn:aws:sns:eu-west-1:1:events');
    // AWS Backup snapshots the spool volume: the service's own scheduler is off on purpose.
    expect(env).toContain('INLET_SNAPSHOT_SCHEDULE=off');
    expect(env).not.toMatch(/PASSWORD|DATABASE_URL/);
  });

  it('runs inlet serve as an unprivileged user once the spool is mounted, restarting it if it dies', () => {
    const unit = serviceUnit();
    expect(unit).toContain('User=inlet');
    expect(unit).toContain(`RequiresMountsFor=${PATHS.spool}`);
    expect(unit).toContain('Restart=always');
    expect(unit).toContain('NoNewPrivileges=true');
    // The service reads the database secret itself (and again after a rotation): no credentials file.
    expect(unit).toContain(`EnvironmentFile=${PATHS.env}`);
    expect(unit).not.toMatch(/ExecStartPre|database\.env/);
  });

  it("gives the operator's inlet command the service's settings and user, and no credentials file", () => {
    const wrapper = cliWrapper();
    expect(wrapper).toContain(`. ${PATHS.env}`);
    expect(wrapper).toContain('--reuid=inlet');
    expect(wrapper).not.toMatch(/database\.env|PASSWORD|DATABASE_URL/);
  });

  it('ships the service log and the spool usage to CloudWatch', () => {
    const config = JSON.parse(cloudWatchAgentConfig({ appLogGroup: 'app', bootstrapLogGroup: 'boot' }));
    expect(config.metrics.metrics_collected.disk.resources).toContain(PATHS.spool);
    expect(config.logs.logs_collected.files.collect_list[0]).toMatchObject({
      file_path: PATHS.log,
      log_group_name: 'app',
    });
  });
});
