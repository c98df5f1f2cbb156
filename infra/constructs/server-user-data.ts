/**
 * The instance's user data, run at every boot (cloud-init `scripts-user, always`), so that a deploy that
 * changes it — a new server bundle or config — installs the new version on the restart CloudFormation
 * makes. Idempotent: it installs Node.js 22 and the CloudWatch agent from the Amazon Linux repositories
 * (reachable through the S3 gateway endpoint), formats the spool volume once and mounts it, unpacks the
 * server bundle from its CDK asset and (re)starts `inlet serve` under systemd.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import {
  type AgentConfigProps,
  cliWrapper,
  cloudWatchAgentConfig,
  environmentFile,
  logrotateConfig,
  PATHS,
  type ServerEnvironment,
  serviceUnit,
} from '../server-files.js';

export interface ServerUserDataProps extends ServerEnvironment, AgentConfigProps {
  /** s3:// URL of the zipped server bundle (CDK asset). */
  readonly bundleUrl: string;
  /** s3:// URL of the pipeline config (CDK asset). */
  readonly configUrl: string;
  readonly spoolVolumeId: string;
  /** The device name the spool volume is attached as. */
  readonly spoolDevice: string;
}

const RUN_EVERY_BOOT = `#cloud-config
cloud_final_modules:
  - [scripts-user, always]
`;

export function serverUserData(props: ServerUserDataProps): ec2.UserData {
  const script = ec2.UserData.forLinux();
  script.addCommands(
    'set -euo pipefail',
    `exec >> ${PATHS.bootstrapLog} 2>&1`,
    'echo "inlet bootstrap $(date -Is)"',
    'dnf install -y nodejs22 amazon-cloudwatch-agent unzip xfsprogs',
    `id inlet >/dev/null 2>&1 || useradd --system --home-dir ${PATHS.dataDir} --shell /sbin/nologin inlet`,
    ...mountSpool(props),
    ...installBundle(props),
    writeFile(PATHS.env, environmentFile(props), '0644'),
    writeFile('/usr/local/bin/inlet', cliWrapper(), '0755'),
    writeFile('/etc/systemd/system/inlet.service', serviceUnit(), '0644'),
    writeFile('/etc/logrotate.d/inlet', logrotateConfig(), '0644'),
    writeFile(PATHS.agentConfig, cloudWatchAgentConfig(props), '0644'),
    `install -d -o inlet -g inlet -m 0750 ${PATHS.logDir}`,
    `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${PATHS.agentConfig}`,
    'systemctl daemon-reload',
    // Instances bootstrapped before the service read its secret itself ran a credentials timer: stop it.
    'systemctl disable --now inlet-database-env.timer 2>/dev/null || true',
    'rm -f /etc/systemd/system/inlet-database-env.* /usr/local/libexec/inlet-database-env /run/inlet/database.env',
    'systemctl enable inlet.service',
    'systemctl restart inlet.service',
    'echo "inlet bootstrap done $(date -Is)"',
  );
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

/** Waits for the attachment, makes the XFS file system once (never over existing data), mounts it by UUID. */
function mountSpool(props: ServerUserDataProps): string[] {
  return [
    `volume='${props.spoolVolumeId}'`,
    `device="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_\${volume/-/}"`,
    `for attempt in $(seq 1 120); do [ -e "$device" ] && break; [ -e ${props.spoolDevice} ] && device=${props.spoolDevice} && break; sleep 5; done`,
    'if [ ! -e "$device" ]; then echo "spool volume $volume is not attached"; exit 1; fi',
    'blkid "$device" >/dev/null || mkfs.xfs -L inlet-spool "$device"',
    `mkdir -p ${PATHS.spool}`,
    'uuid="$(blkid -s UUID -o value "$device")"',
    `grep -q "$uuid" /etc/fstab || echo "UUID=$uuid ${PATHS.spool} xfs defaults,nofail,noatime 0 2" >> /etc/fstab`,
    `mountpoint -q ${PATHS.spool} || mount ${PATHS.spool}`,
    `chown inlet:inlet ${PATHS.dataDir} ${PATHS.spool}`,
  ];
}

/** The bundle replaces the previous one whole; the config is the deployment's, from its own asset. */
function installBundle(props: ServerUserDataProps): string[] {
  return [
    'workdir="$(mktemp -d)"',
    `aws s3 cp --region '${props.region}' '${props.bundleUrl}' "$workdir/server.zip"`,
    'unzip -q "$workdir/server.zip" -d "$workdir/app"',
    `rm -rf ${PATHS.app}.previous && { [ ! -d ${PATHS.app} ] || mv ${PATHS.app} ${PATHS.app}.previous; }`,
    `mv "$workdir/app" ${PATHS.app} && chmod -R a+rX ${PATHS.app}`,
    `install -d -m 0755 /etc/inlet`,
    `aws s3 cp --region '${props.region}' '${props.configUrl}' ${PATHS.config}`,
    `chmod 0644 ${PATHS.config}`,
    'rm -rf "$workdir"',
  ];
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
