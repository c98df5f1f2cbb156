/** What user data writes on an instance, checked as files: the environment, the units, the credentials bridge. */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'pg-connection-string';
import { describe, expect, it } from 'vitest';
import {
  cloudWatchAgentConfig,
  databaseEnvScript,
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
    expect(unit).toContain(`ExecStartPre=+${PATHS.databaseEnvScript}`);
    expect(unit).toContain(`EnvironmentFile=-${PATHS.databaseEnv}`);
  });

  it('ships the service log and the spool usage to CloudWatch', () => {
    const config = JSON.parse(cloudWatchAgentConfig({ appLogGroup: 'app', bootstrapLogGroup: 'boot' }));
    expect(config.metrics.metrics_collected.disk.resources).toContain(PATHS.spool);
    expect(config.logs.logs_collected.files.collect_list[0]).toMatchObject({
      file_path: PATHS.log,
      log_group_name: 'app',
    });
  });

  it('turns the secret into a DATABASE_URL for the proxy that pg parses back exactly, in a private file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inlet-db-env-'));
    const secret = {
      username: 'inlet',
      password: 'p4ss=w0rd:with,odd.chars_-',
      host: 'db.internal',
      port: 5432,
      dbname: 'inlet',
    };
    writeFileSync(join(dir, 'aws'), `#!/bin/sh\ncat <<'EOF'\n${JSON.stringify(secret)}\nEOF\n`);
    chmodSync(join(dir, 'aws'), 0o755);
    writeFileSync(
      join(dir, 'inlet.env'),
      'AWS_REGION=eu-west-1\nINLET_DATABASE_SECRET_ARN=arn\nINLET_DATABASE_HOST=proxy.example\n',
    );
    const paths = {
      env: join(dir, 'inlet.env'),
      databaseEnv: join(dir, 'run', 'database.env'),
      node: process.execPath,
    };
    writeFileSync(join(dir, 'script'), databaseEnvScript(paths));
    execFileSync('bash', [join(dir, 'script')], { env: { PATH: `${dir}:${process.env.PATH}` } });
    const line = readFileSync(paths.databaseEnv, 'utf8').trim();
    expect(line).toMatch(/^DATABASE_URL=postgresql:\/\//);
    const parsed = parse(line.slice('DATABASE_URL='.length));
    expect(parsed).toMatchObject({
      user: 'inlet',
      password: secret.password,
      host: 'proxy.example',
      port: '5432',
      database: 'inlet',
    });
    expect(line).toContain('sslmode=verify-full');
  });
});
