/**
 * The files user data writes on each instance: the service's environment, the systemd unit, the
 * operator's `inlet` wrapper and the CloudWatch agent's config. No file holds a database password: the
 * service reads the secret itself (INLET_DATABASE_SECRET_ARN) and reads it again after a rotation.
 * Pure functions of their inputs (CDK tokens welcome), so tests read exactly what an instance gets.
 */

export const PATHS = {
  app: '/opt/inlet',
  entry: '/opt/inlet/lib/cli/main.mjs',
  config: '/etc/inlet/inlet.config.yaml',
  env: '/etc/inlet/inlet.env',
  dataDir: '/var/lib/inlet',
  spool: '/var/lib/inlet/spool',
  logDir: '/var/log/inlet',
  log: '/var/log/inlet/inlet.log',
  bootstrapLog: '/var/log/inlet-bootstrap.log',
  agentConfig: '/opt/aws/amazon-cloudwatch-agent/etc/inlet.json',
  node: '/usr/bin/node-22',
} as const;

export const SERVER_PORT = 8080;
/** The SFTP door's port on the instances (the SFTP load balancer listens on 22). */
export const SFTP_PORT = 2222;
/** The SFTP host key, written at every `inlet-node up` from its secret, mode 0600, owned by the service. */
export const SFTP_HOST_KEY_PATH = '/etc/inlet/sftp_host_ed25519_key';

export interface ServerEnvironment {
  readonly region: string;
  readonly databaseSecretArn: string;
  readonly databaseHost: string;
  readonly eventsTopicArn: string;
}

/** /etc/inlet/inlet.env: the variables of src/server/settings.ts and docs/environment.md, no secrets. */
export function environmentFile(env: ServerEnvironment): string {
  return [
    `AWS_REGION=${env.region}`,
    `INLET_CONFIG=${PATHS.config}`,
    `INLET_DATA_DIR=${PATHS.dataDir}`,
    `INLET_SPOOL_DIR=${PATHS.spool}`,
    'INLET_HOST=0.0.0.0',
    `INLET_PORT=${SERVER_PORT}`,
    'INLET_LOG_LEVEL=info',
    `INLET_DATABASE_SECRET_ARN=${env.databaseSecretArn}`,
    `INLET_DATABASE_HOST=${env.databaseHost}`,
    `INLET_NOTIFY_TOPIC_ARN=${env.eventsTopicArn}`,
    'PGSSLMODE=verify-full',
    // AWS Backup snapshots the spool volume (the Backups stack); the service's own scheduler stays off.
    'INLET_SNAPSHOT_SCHEDULE=off',
    // Behind the SFTP load balancer; every instance presents the same host key, from Secrets Manager.
    `INLET_SFTP_PORT=${SFTP_PORT}`,
    `INLET_SFTP_HOST_KEY_FILE=${SFTP_HOST_KEY_PATH}`,
    '',
  ].join('\n');
}

export function serviceUnit(): string {
  return `[Unit]
Description=Inlet upload service (inlet serve)
Wants=network-online.target
After=network-online.target
RequiresMountsFor=${PATHS.spool}

[Service]
Type=simple
User=inlet
Group=inlet
EnvironmentFile=${PATHS.env}
ExecStart=${PATHS.node} ${PATHS.entry} serve --config ${PATHS.config}
StandardOutput=append:${PATHS.log}
StandardError=append:${PATHS.log}
Restart=always
RestartSec=5
KillSignal=SIGTERM
TimeoutStopSec=60
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=true
PrivateTmp=true
ReadWritePaths=${PATHS.dataDir} ${PATHS.logDir}

[Install]
WantedBy=multi-user.target
`;
}

/** `sudo inlet tokens create --name acme` from a Session Manager shell: the CLI with the service's settings. */
export function cliWrapper(): string {
  return `#!/bin/bash
set -euo pipefail
set -a; . ${PATHS.env}; set +a
exec setpriv --reuid=inlet --regid=inlet --init-groups -- ${PATHS.node} ${PATHS.entry} "$@"
`;
}

export function logrotateConfig(): string {
  return `${PATHS.log} {
  daily
  rotate 7
  compress
  missingok
  notifempty
  copytruncate
}
`;
}

export interface AgentConfigProps {
  readonly appLogGroup: string;
  readonly bootstrapLogGroup: string;
}

/** Memory and disk (root and spool) metrics in CWAgent, and the service's and bootstrap's logs. */
export function cloudWatchAgentConfig(props: AgentConfigProps): string {
  return JSON.stringify(
    {
      agent: { metrics_collection_interval: 60, run_as_user: 'root' },
      metrics: {
        namespace: AGENT_NAMESPACE,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the agent's own placeholder, not JavaScript's
        append_dimensions: { InstanceId: '${aws:InstanceId}' },
        metrics_collected: {
          mem: { measurement: ['mem_used_percent'] },
          disk: {
            measurement: ['used_percent', 'inodes_free'],
            resources: ['/', PATHS.spool],
            drop_device: true,
            ignore_file_system_types: ['sysfs', 'devtmpfs', 'tmpfs', 'overlay'],
          },
        },
      },
      logs: {
        logs_collected: {
          files: {
            collect_list: [
              { file_path: PATHS.log, log_group_name: props.appLogGroup, log_stream_name: '{instance_id}' },
              {
                file_path: PATHS.bootstrapLog,
                log_group_name: props.bootstrapLogGroup,
                log_stream_name: '{instance_id}',
              },
            ],
          },
        },
      },
    },
    null,
    2,
  );
}

/** Where the agent's metrics go; the instance role may put metrics in this namespace only. */
export const AGENT_NAMESPACE = 'CWAgent';
