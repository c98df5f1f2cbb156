/**
 * The instance's user data, run at every boot (cloud-init `scripts-user, always`). It holds only what
 * belongs to the instance (its spool volume, its stack and logical id, the parameter names) and the fixed
 * files, so that a new release never changes it: `inlet-node up` reads the release from SSM. First it writes
 * `inlet-node` and arms a trap, so that any failure from then on — a `dnf` error, a failed download, a
 * service that never answers /healthz — reaches CloudFormation as a FAILURE signal at once; the SUCCESS
 * signal goes only after `inlet-node up` saw /healthz answer 200 and the load balancer took the instance.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import {
  type AgentConfigProps,
  cliWrapper,
  cloudWatchAgentConfig,
  logrotateConfig,
  PATHS,
  serviceUnit,
} from '../server-files.js';
import {
  NODE_ENV_PATH,
  NODE_SCRIPT_PATH,
  type NodeFacts,
  nodeEnvironment,
  nodeScript,
} from '../server-node-script.js';

export interface ServerUserDataProps extends NodeFacts, AgentConfigProps {}

const RUN_EVERY_BOOT = `#cloud-config
cloud_final_modules:
  - [scripts-user, always]
`;

/** The shell part of the user data, as bash runs it (CDK adds the `#!/bin/bash` line). */
export function bootstrapCommands(props: ServerUserDataProps): string[] {
  return [
    'set -euo pipefail',
    `exec >> ${PATHS.bootstrapLog} 2>&1`,
    'echo "inlet bootstrap $(date -Is)"',
    writeFile(NODE_ENV_PATH, nodeEnvironment(props), '0644'),
    writeFile(NODE_SCRIPT_PATH, nodeScript(), '0755'),
    // From here on a failure is reported to CloudFormation now, not when the creation policy times out.
    `report_failure() { local status=$?; if [ "$status" -ne 0 ]; then ${NODE_SCRIPT_PATH} signal FAILURE || true; fi; }`,
    'trap report_failure EXIT',
    // openssh: ssh-keygen, for the SFTP host key of the first instance (inlet-node).
    'dnf install -y nodejs22 amazon-cloudwatch-agent unzip xfsprogs openssh',
    `id inlet >/dev/null 2>&1 || useradd --system --home-dir ${PATHS.dataDir} --shell /sbin/nologin inlet`,
    writeFile('/usr/local/bin/inlet', cliWrapper(), '0755'),
    writeFile('/etc/systemd/system/inlet.service', serviceUnit(), '0644'),
    writeFile('/etc/logrotate.d/inlet', logrotateConfig(), '0644'),
    writeFile(PATHS.agentConfig, cloudWatchAgentConfig(props), '0644'),
    `install -d -o inlet -g inlet -m 0750 ${PATHS.logDir}`,
    `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${PATHS.agentConfig}`,
    'systemctl daemon-reload',
    `${NODE_SCRIPT_PATH} up`,
    `${NODE_SCRIPT_PATH} signal SUCCESS`,
    'echo "inlet bootstrap done $(date -Is)"',
  ];
}

export function serverUserData(props: ServerUserDataProps): ec2.UserData {
  const script = ec2.UserData.forLinux();
  script.addCommands(...bootstrapCommands(props));
  const userData = new ec2.MultipartUserData();
  userData.addPart(
    ec2.MultipartBody.fromRawBody({
      contentType: 'text/cloud-config; charset="utf-8"',
      body: RUN_EVERY_BOOT,
    }),
  );
  userData.addUserDataPart(script, ec2.MultipartBody.SHELL_SCRIPT, true);
  return userData;
}

/** A file with fixed content: a quoted here-document, so the shell expands nothing in it. */
function writeFile(path: string, content: string, mode: string): string {
  const body = content.endsWith('\n') ? content : `${content}\n`;
  return [
    `install -d -m 0755 "$(dirname ${path})"`,
    `cat > ${path} <<'INLET_EOF'\n${body}INLET_EOF`,
    `chmod ${mode} ${path}`,
  ].join('\n');
}
