/**
 * One Inlet server: an EC2 instance in a private subnet (IMDSv2 only, no public IP, encrypted root volume,
 * Session Manager instead of SSH) and its spool, a separate encrypted gp3 volume tagged for the backup
 * plan. The spool is the queue of acknowledged uploads, so it lives apart from the instance: replacing
 * or terminating the instance never deletes it, and deleting the stack leaves a final snapshot.
 *
 * The instance attaches the spool itself (`inlet-node up`), instead of a CloudFormation volume attachment:
 * CloudFormation creates a replacement before it deletes the old instance, and an attachment resource would
 * then fail on a volume still in use, leaving the replacement stuck. A creation policy makes CloudFormation
 * wait for the instance's own report that /healthz answers.
 */
import { Duration, Lazy, RemovalPolicy, Size, Stack, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { BACKUP_TAG, BackupClass } from '../backup-tags.js';
import { acknowledge } from '../nag.js';
import { type ServerUserDataProps, serverUserData } from './server-user-data.js';

export const SPOOL_DEVICE = '/dev/sdf';
const AL2023_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default';

export interface ServerInstanceProps {
  readonly vpc: ec2.IVpc;
  readonly subnet: ec2.ISubnet;
  readonly instanceType: ec2.InstanceType;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly role: iam.IRole;
  readonly spoolVolumeGiB: number;
  readonly protect: boolean;
  /** From latestAmazonLinuxTemplate(). */
  readonly image: ec2.CfnLaunchTemplate;
  readonly userData: Omit<ServerUserDataProps, 'spoolVolumeId' | 'spoolDevice' | 'stackName' | 'logicalId'>;
}

/** The tag that lets an instance of this stack attach, detach and release the spools of its siblings only. */
export const SERVER_TAG = 'inlet:server';

/** dnf, the spool (its handover from a replaced instance included), the release and /healthz. */
export const CREATION_TIMEOUT = Duration.minutes(30);

/**
 * Amazon Linux 2023's current AMI, resolved by EC2 when an instance launches (a launch template accepts
 * `resolve:ssm:`). Resolving it at deploy time instead would make every deploy after an AMI release
 * replace the instances, and a replaced instance cannot take over a spool volume still attached to
 * the old one.
 */
export function latestAmazonLinuxTemplate(
  scope: Construct,
  id: string,
  instanceType: ec2.InstanceType,
): ec2.CfnLaunchTemplate {
  const arch = instanceType.architecture === ec2.InstanceArchitecture.ARM_64 ? 'arm64' : 'x86_64';
  return new ec2.CfnLaunchTemplate(scope, id, {
    launchTemplateData: { imageId: `resolve:ssm:${AL2023_PARAMETER}-${arch}` },
  });
}

export class ServerInstance extends Construct {
  readonly instance: ec2.Instance;
  readonly spool: ec2.Volume;

  constructor(scope: Construct, id: string, props: ServerInstanceProps) {
    super(scope, id);
    this.spool = new ec2.Volume(this, 'Spool', {
      availabilityZone: props.subnet.availabilityZone,
      size: Size.gibibytes(props.spoolVolumeGiB),
      volumeType: ec2.EbsDeviceVolumeType.GP3,
      encrypted: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    Tags.of(this.spool).add(BACKUP_TAG, BackupClass.spool);
    // How `inlet snapshot` (the app's EBS provider) finds the spool volume, for manual snapshots.
    Tags.of(this.spool).add('inlet:spool', 'true');
    Tags.of(this.spool).add(SERVER_TAG, Stack.of(this).stackName);

    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [props.subnet] },
      instanceType: props.instanceType,
      // Only for the OS type: the template below supplies the image, and ImageId is removed.
      machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(AL2023_PARAMETER, {
        os: ec2.OperatingSystemType.LINUX,
      }),
      securityGroup: props.securityGroup,
      role: props.role,
      associatePublicIpAddress: false,
      httpEndpoint: true,
      httpTokens: ec2.HttpTokens.REQUIRED,
      httpPutResponseHopLimit: 1,
      detailedMonitoring: true,
      disableApiTermination: props.protect,
      instanceInitiatedShutdownBehavior: ec2.InstanceInitiatedShutdownBehavior.STOP,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(16, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
      userData: serverUserData({
        ...props.userData,
        stackName: Stack.of(this).stackName,
        // The instance's own logical id, for its creation signal: known once the instance below exists.
        logicalId: Lazy.string({ produce: () => Stack.of(this).getLogicalId(cfnInstance) }),
        spoolVolumeId: this.spool.volumeId,
        spoolDevice: SPOOL_DEVICE,
      }),
      // A new release changes no user data (the instance reads it from SSM); what does change it restarts
      // the instance, which runs the bootstrap again.
      userDataCausesReplacement: false,
      propagateTagsToVolumeOnCreation: true,
    });
    const cfnInstance = this.instance.node.defaultChild as ec2.CfnInstance;
    Tags.of(this.instance).add(SERVER_TAG, Stack.of(this).stackName);
    cfnInstance.cfnOptions.creationPolicy = {
      resourceSignal: { count: 1, timeout: `PT${CREATION_TIMEOUT.toMinutes()}M` },
    };
    cfnInstance.launchTemplate = {
      launchTemplateId: props.image.ref,
      version: props.image.attrLatestVersionNumber,
    };
    cfnInstance.addPropertyDeletionOverride('ImageId');
    if (!props.protect) {
      acknowledge(
        this.instance,
        'EC29',
        'Termination protection was turned off on purpose with -c protect=false, the documented first step of ' +
          'tearing the deployment down; the spool volume is separate and keeps a final snapshot.',
      );
    }
  }
}
