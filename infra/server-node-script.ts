/**
 * `/usr/local/libexec/inlet-node`: what an instance does to take its place in the deployment, the same at
 * first boot, at every later boot, on a rolling update (State Manager runs `up` on one instance at a time)
 * and when a replacement takes its spool over. Fixed text: everything that differs between deployments and
 * instances is read from NODE_ENV_PATH (written by user data) and from the release's SSM parameters, so a
 * new bundle, config or environment never changes user data, and never stops and starts an instance.
 *
 *   up             claim the spool volume (asking its holder to release it), mount it, write the SFTP host
 *                  key from its secret (generating it if no instance did yet), install the current release
 *                  if it is not the one running (leaving the load balancers first), start the service, wait
 *                  until /healthz answers 200, then join the load balancers (HTTP and SFTP)
 *   host-key       write the SFTP host key from its secret (generating it if no instance did yet); `up` does
 *                  it too, and after a replaced key an operator runs it, then restarts the service
 *   release-spool  leave the load balancer, stop the service, unmount and detach the spool (run on the old
 *                  instance, through SSM, by the instance replacing it)
 *   wait-healthy   wait until /healthz answers 200 (SECONDS, default 300)
 *   signal         tell CloudFormation whether this instance's creation succeeded (SUCCESS or FAILURE)
 */
import { PATHS, SFTP_HOST_KEY_PATH } from './server-files.js';

export const NODE_SCRIPT_PATH = '/usr/local/libexec/inlet-node';
export const NODE_ENV_PATH = '/etc/inlet/node.env';
/** What the host key secret's placeholder is not, and a key is: the armour of an OpenSSH private key. */
const OPENSSH_PRIVATE_KEY_MARK = 'BEGIN OPENSSH PRIVATE KEY';

/** The instance's own facts, /etc/inlet/node.env: one `KEY=value` a line, values without spaces. */
export interface NodeFacts {
  readonly region: string;
  /** The stack and the instance's logical id, for the creation signal. */
  readonly stackName: string;
  readonly logicalId: string;
  readonly spoolVolumeId: string;
  /** The device name the spool volume is attached as. */
  readonly spoolDevice: string;
  readonly targetGroupArn: string;
  readonly servicePort: number;
  /** The SFTP load balancer's target group and the door's port on the instance. */
  readonly sftpTargetGroupArn: string;
  readonly sftpPort: number;
  /** The secret holding the SFTP host key (a placeholder until the first instance generates the key). */
  readonly sftpHostKeySecret: string;
  /** The SSM document that runs `inlet-node release-spool` on the instance holding the spool. */
  readonly releaseSpoolDocument: string;
  /** SSM parameters holding the release: the bundle's and the config's s3:// URLs, the service environment. */
  readonly bundleParameter: string;
  readonly configParameter: string;
  readonly environmentParameter: string;
}

export function nodeEnvironment(facts: NodeFacts): string {
  return [
    `INLET_NODE_REGION=${facts.region}`,
    `INLET_NODE_STACK=${facts.stackName}`,
    `INLET_NODE_LOGICAL_ID=${facts.logicalId}`,
    `INLET_NODE_SPOOL_VOLUME=${facts.spoolVolumeId}`,
    `INLET_NODE_SPOOL_DEVICE=${facts.spoolDevice}`,
    `INLET_NODE_TARGET_GROUP=${facts.targetGroupArn}`,
    `INLET_NODE_PORT=${facts.servicePort}`,
    `INLET_NODE_HEALTH_URL=http://127.0.0.1:${facts.servicePort}/healthz`,
    `INLET_NODE_SFTP_TARGET_GROUP=${facts.sftpTargetGroupArn}`,
    `INLET_NODE_SFTP_PORT=${facts.sftpPort}`,
    `INLET_NODE_SFTP_HOST_KEY_SECRET=${facts.sftpHostKeySecret}`,
    `INLET_NODE_RELEASE_SPOOL_DOCUMENT=${facts.releaseSpoolDocument}`,
    `INLET_NODE_BUNDLE_PARAMETER=${facts.bundleParameter}`,
    `INLET_NODE_CONFIG_PARAMETER=${facts.configParameter}`,
    `INLET_NODE_ENVIRONMENT_PARAMETER=${facts.environmentParameter}`,
    '',
  ].join('\n');
}

export function nodeScript(): string {
  return `#!/bin/bash
# inlet-node: this instance's part in the Inlet deployment (written by user data; see infra/server-node-script.ts).
set -euo pipefail
# shellcheck source=/dev/null
. "\${INLET_NODE_ENV:-${NODE_ENV_PATH}}"

release_mark=${PATHS.dataDir}/release
spool=${PATHS.spool}
host_key_file="\${INLET_NODE_SFTP_HOST_KEY_FILE:-${SFTP_HOST_KEY_PATH}}"
service_user="\${INLET_NODE_SERVICE_USER:-inlet}"

log() { echo "inlet-node: $*" >&2; }
aws_() { aws --region "$INLET_NODE_REGION" "$@"; }

instance_id() {
  local token
  token="$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')"
  curl -fsS -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/instance-id
}

parameter() { aws_ ssm get-parameter --name "$1" --query Parameter.Value --output text; }

wait_healthy() {
  local deadline=$((SECONDS + $1))
  until curl -fsS -o /dev/null --max-time 5 "$INLET_NODE_HEALTH_URL"; do
    if ((SECONDS >= deadline)); then
      log "$INLET_NODE_HEALTH_URL did not answer 200 within $1 s"
      return 1
    fi
    sleep 2
  done
  log "$INLET_NODE_HEALTH_URL answers 200"
}

# Both load balancers: HTTP uploads on the service port, the SFTP door on its own.
target_groups() { echo "$INLET_NODE_TARGET_GROUP=$INLET_NODE_PORT $INLET_NODE_SFTP_TARGET_GROUP=$INLET_NODE_SFTP_PORT"; }

join_load_balancer() {
  local group
  for group in $(target_groups); do
    aws_ elbv2 register-targets --target-group-arn "\${group%=*}" --targets "Id=$1,Port=\${group##*=}"
  done
  for group in $(target_groups); do
    aws_ elbv2 wait target-in-service --target-group-arn "\${group%=*}" --targets "Id=$1,Port=\${group##*=}"
  done
  log "in service behind the load balancers"
}

# Uploads and SFTP sessions in progress finish during the deregistration delay; new ones go to the others.
leave_load_balancer() {
  local group
  for group in $(target_groups); do
    aws_ elbv2 deregister-targets --target-group-arn "\${group%=*}" --targets "Id=$1,Port=\${group##*=}"
  done
  for group in $(target_groups); do
    aws_ elbv2 wait target-deregistered --target-group-arn "\${group%=*}" --targets "Id=$1,Port=\${group##*=}"
  done
  log "out of the load balancers"
}

host_key_version() {
  aws_ secretsmanager get-secret-value --secret-id "$INLET_NODE_SFTP_HOST_KEY_SECRET" --query VersionId --output text
}

# Writes one version of the secret (the pair read together, so a concurrent put cannot mix them) to $2.
read_host_key() {
  aws_ secretsmanager get-secret-value --secret-id "$INLET_NODE_SFTP_HOST_KEY_SECRET" --version-id "$1" \\
    --query SecretString --output text >"$2"
}

# Every instance presents the same host key (partners pin it). The secret starts as a placeholder; the first
# instance to find it generates the key and stores it as version "inlet-host-key-<placeholder version>":
# a version never changes once written, so when instances race the first put wins, Secrets Manager refuses
# the others, and all of them then read the winner's key (see infra/constructs/sftp-host-key.ts).
install_host_key() {
  local version key
  key="$(mktemp)"
  version="$(host_key_version)"
  read_host_key "$version" "$key"
  if ! grep -q '${OPENSSH_PRIVATE_KEY_MARK}' "$key"; then
    log "the SFTP host key secret holds no key yet: generating one"
    rm -f "$key"
    ssh-keygen -q -t ed25519 -N '' -C inlet-sftp-host-key -f "$key"
    if aws_ secretsmanager put-secret-value --secret-id "$INLET_NODE_SFTP_HOST_KEY_SECRET" \\
      --secret-string "file://$key" --client-request-token "inlet-host-key-$version" >/dev/null; then
      log "stored the new SFTP host key"
    else
      log "another instance stored its SFTP host key first: using that one"
    fi
    version="$(host_key_version)"
    read_host_key "$version" "$key"
    if ! grep -q '${OPENSSH_PRIVATE_KEY_MARK}' "$key"; then
      rm -f "$key" "$key.pub"
      log "the SFTP host key secret still holds no key"
      return 1
    fi
  fi
  install -o "$service_user" -g "$service_user" -m 0600 "$key" "$host_key_file"
  rm -f "$key" "$key.pub"
  log "SFTP host key written (secret version $version)"
}

# The spool is attached by its instance, not by CloudFormation: a replacement instance can then take it over
# from the one it replaces, which CloudFormation only terminates after the replacement reported success.
claim_spool() {
  local self=$1 state holder asked='' deadline=$((SECONDS + 900))
  while :; do
    read -r state holder < <(aws_ ec2 describe-volumes --volume-ids "$INLET_NODE_SPOOL_VOLUME" \\
      --query 'Volumes[0].[State,Attachments[0].InstanceId]' --output text)
    case "$state/$holder" in
      "in-use/$self") break ;;
      available/*)
        log "attaching spool volume $INLET_NODE_SPOOL_VOLUME"
        aws_ ec2 attach-volume --volume-id "$INLET_NODE_SPOOL_VOLUME" --instance-id "$self" \\
          --device "$INLET_NODE_SPOOL_DEVICE" >/dev/null
        ;;
      in-use/*)
        if [ -z "$asked" ]; then
          log "spool volume $INLET_NODE_SPOOL_VOLUME is attached to $holder: asking it to release the spool"
          aws_ ssm send-command --document-name "$INLET_NODE_RELEASE_SPOOL_DOCUMENT" --instance-ids "$holder" \\
            --comment "release the spool to $self" >/dev/null
          asked=yes
        fi
        ;;
    esac
    if ((SECONDS >= deadline)); then
      log "spool volume $INLET_NODE_SPOOL_VOLUME is still $state (attached to $holder): see the runbook in docs/deploy-aws.md"
      return 1
    fi
    sleep 5
  done
}

# Waits for the device, makes the XFS file system once (never over existing data), mounts it by UUID.
mount_spool() {
  local device="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_\${INLET_NODE_SPOOL_VOLUME/-/}" uuid attempt
  for attempt in $(seq 1 120); do
    [ -e "$device" ] && break
    if [ -e "$INLET_NODE_SPOOL_DEVICE" ]; then device=$INLET_NODE_SPOOL_DEVICE && break; fi
    log "waiting for the spool device ($attempt)"
    sleep 5
  done
  if [ ! -e "$device" ]; then
    log "spool volume $INLET_NODE_SPOOL_VOLUME is attached but its device never appeared"
    return 1
  fi
  blkid "$device" >/dev/null || mkfs.xfs -L inlet-spool "$device"
  mkdir -p "$spool"
  uuid="$(blkid -s UUID -o value "$device")"
  grep -q "$uuid" /etc/fstab || echo "UUID=$uuid $spool xfs defaults,nofail,noatime 0 2" >>/etc/fstab
  mountpoint -q "$spool" || mount "$spool"
  chown inlet:inlet ${PATHS.dataDir} "$spool"
}

# The release is three SSM parameters; what was installed is remembered as their digest.
wanted_release() {
  bundle_url="$(parameter "$INLET_NODE_BUNDLE_PARAMETER")"
  config_url="$(parameter "$INLET_NODE_CONFIG_PARAMETER")"
  environment="$(parameter "$INLET_NODE_ENVIRONMENT_PARAMETER")"
  release="$(printf '%s\\n' "$bundle_url" "$config_url" "$environment" | sha256sum | cut -d' ' -f1)"
}

install_release() {
  local workdir
  workdir="$(mktemp -d)"
  aws_ s3 cp "$bundle_url" "$workdir/server.zip"
  unzip -q "$workdir/server.zip" -d "$workdir/app"
  rm -rf ${PATHS.app}.previous
  if [ -d ${PATHS.app} ]; then mv ${PATHS.app} ${PATHS.app}.previous; fi
  mv "$workdir/app" ${PATHS.app}
  chmod -R a+rX ${PATHS.app}
  install -d -m 0755 /etc/inlet
  aws_ s3 cp "$config_url" ${PATHS.config}
  chmod 0644 ${PATHS.config}
  printf '%s\\n' "$environment" >${PATHS.env}
  chmod 0644 ${PATHS.env}
  rm -rf "$workdir"
}

up() {
  local self
  self="$(instance_id)"
  claim_spool "$self"
  mount_spool
  install_host_key
  wanted_release
  if [ "$(cat "$release_mark" 2>/dev/null)" = "$release" ] && systemctl is-active --quiet inlet.service; then
    log "release $release is running"
  else
    leave_load_balancer "$self"
    log "installing release $release"
    install_release
    systemctl enable inlet.service
    systemctl restart inlet.service
    echo "$release" >"$release_mark"
  fi
  wait_healthy 300
  join_load_balancer "$self"
}

release_spool() {
  local self
  self="$(instance_id)"
  leave_load_balancer "$self" || log "could not leave the load balancer: stopping anyway"
  systemctl stop inlet.service
  if mountpoint -q "$spool"; then umount "$spool"; fi
  aws_ ec2 detach-volume --volume-id "$INLET_NODE_SPOOL_VOLUME" --instance-id "$self" >/dev/null
  log "spool volume $INLET_NODE_SPOOL_VOLUME released"
}

signal() {
  local self
  self="$(instance_id)"
  aws_ cloudformation signal-resource --stack-name "$INLET_NODE_STACK" --logical-resource-id "$INLET_NODE_LOGICAL_ID" \\
    --unique-id "$self" --status "$1" ||
    log "no $1 signal taken: CloudFormation waits for one only while it creates this instance"
}

case "\${1:-}" in
  up | release-spool)
    # One at a time: State Manager, user data and a replacement's request may arrive together.
    exec 9>/run/inlet-node.lock
    flock 9
    if [ "$1" = up ]; then up; else release_spool; fi
    ;;
  host-key) install_host_key ;;
  wait-healthy) wait_healthy "\${2:-300}" ;;
  signal) signal "\${2:?SUCCESS or FAILURE}" ;;
  *)
    echo "usage: inlet-node up | release-spool | host-key | wait-healthy [SECONDS] | signal SUCCESS|FAILURE" >&2
    exit 2
    ;;
esac
`;
}
