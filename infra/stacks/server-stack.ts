/**
 * Architecture 2, client → load balancer → EC2 (`inlet serve`) → EBS spool → worker → RDS Proxy →
 * PostgreSQL: N instances, each with its own spool volume, behind one load balancer; the server bundle
 * and the pipeline config are CDK assets, the release the instances install at boot and that a State
 * Manager association rolls out, one instance at a time, whenever it changes (ServerRelease).
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import { LogBucket } from '../constructs/log-bucket.js';
import { ProxyAccess } from '../constructs/proxy-access.js';
import { latestAmazonLinuxTemplate, SERVER_TAG, ServerInstance } from '../constructs/server-instance.js';
import { ServerRelease } from '../constructs/server-release.js';
import { ServerRole } from '../constructs/server-role.js';
import { SftpFailedSignIns } from '../constructs/sftp-failed-sign-ins.js';
import { SftpHostKey } from '../constructs/sftp-host-key.js';
import { SftpLoadBalancer } from '../constructs/sftp-load-balancer.js';
import { UploadLoadBalancer } from '../constructs/upload-load-balancer.js';
import { OUTPUTS } from '../output-names.js';
import type { PipelineConfigFacts } from '../pipeline-config.js';
import { SERVER_PORT, SFTP_PORT } from '../server-files.js';
import type { InletSettings } from '../settings.js';
import type { DataStack } from './data-stack.js';
import { type NetworkStack, VPC_CIDR } from './network-stack.js';

export interface ServerStackProps extends StackProps {
  readonly settings: InletSettings;
  readonly pipelines: PipelineConfigFacts;
  readonly network: NetworkStack;
  readonly data: DataStack;
}

export class ServerStack extends Stack {
  readonly servers: ServerInstance[];
  readonly loadBalancer: UploadLoadBalancer;
  readonly sftpLoadBalancer: SftpLoadBalancer;
  readonly sftpHostKey: SftpHostKey;
  /** The SFTP door's refused sign-ins, counted from the service's log lines. */
  readonly sftpFailedSignIns: SftpFailedSignIns;
  readonly appLog: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServerStackProps) {
    super(scope, id, props);
    const { settings, network, data } = props;

    const bundle = new s3assets.Asset(this, 'ServerBundle', { path: settings.server.bundleDir });
    const config = new s3assets.Asset(this, 'PipelineConfig', { path: props.pipelines.path });
    this.appLog = new logs.LogGroup(this, 'AppLog', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const bootstrapLog = new logs.LogGroup(this, 'BootstrapLog', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const securityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: network.vpc,
      description: 'Inlet instances: uploads from the load balancer only; out to the proxy and the endpoints',
    });
    this.sftpHostKey = new SftpHostKey(this, 'SftpHostKey', { protect: settings.protect });
    this.sftpFailedSignIns = new SftpFailedSignIns(this, 'SftpFailedSignIns', { appLog: this.appLog });
    new ProxyAccess(this, 'ProxyAccess', {
      proxySecurityGroup: data.proxySecurityGroup,
      from: securityGroup,
      description: 'PostgreSQL from the Inlet instances',
    });
    const serverRole = new ServerRole(this, 'Role', {
      assets: [bundle, config],
      databaseSecret: data.ingestSecret,
      ingestionEvents: data.ingestionEvents,
      logGroups: [this.appLog, bootstrapLog],
    });
    const release = new ServerRelease(this, 'Release', {
      bundleUrl: bundle.s3ObjectUrl,
      configUrl: config.s3ObjectUrl,
      environment: {
        region: this.region,
        databaseSecretArn: data.ingestSecret.secretArn,
        databaseHost: data.proxy.endpoint,
        eventsTopicArn: data.ingestionEvents.topicArn,
      },
    });

    // Before the instances: they register themselves in its target group once /healthz answers.
    const internetFacing = settings.server.publicLoadBalancer;
    const loadBalancerSubnets = internetFacing ? network.publicSubnets : network.appSubnets;
    if (loadBalancerSubnets === undefined) throw new Error('a public load balancer needs the public subnets');
    const clientCidr = settings.server.clientCidr ?? (internetFacing ? '0.0.0.0/0' : VPC_CIDR);
    const accessLogs = new LogBucket(this, 'AccessLogs').bucket;
    this.loadBalancer = new UploadLoadBalancer(this, 'LoadBalancer', {
      vpc: network.vpc,
      subnets: loadBalancerSubnets,
      internetFacing,
      certificateArn: settings.server.certificateArn,
      clientCidr,
      instanceSecurityGroup: securityGroup,
      accessLogs,
      protect: settings.protect,
    });
    this.sftpLoadBalancer = new SftpLoadBalancer(this, 'SftpLoadBalancer', {
      vpc: network.vpc,
      subnets: loadBalancerSubnets,
      internetFacing,
      clientCidr,
      instanceSecurityGroup: securityGroup,
      accessLogs,
      protect: settings.protect,
    });

    const subnets = network.vpc.selectSubnets(network.appSubnets).subnets;
    const instanceType = new ec2.InstanceType(settings.server.instanceType);
    const image = latestAmazonLinuxTemplate(this, 'AmazonLinux', instanceType);
    this.servers = Array.from({ length: settings.server.instances }, (_, index) => {
      const subnet = subnets[index % subnets.length];
      if (subnet === undefined) throw new Error('the VPC has no app subnets');
      return new ServerInstance(this, `Server${index + 1}`, {
        vpc: network.vpc,
        subnet,
        instanceType,
        securityGroup,
        role: serverRole.role,
        spoolVolumeGiB: settings.server.spoolVolumeGiB,
        protect: settings.protect,
        image,
        userData: {
          region: this.region,
          targetGroupArn: this.loadBalancer.targetGroup.targetGroupArn,
          servicePort: SERVER_PORT,
          sftpTargetGroupArn: this.sftpLoadBalancer.targetGroup.targetGroupArn,
          sftpPort: SFTP_PORT,
          sftpHostKeySecret: this.sftpHostKey.secret.secretArn,
          releaseSpoolDocument: release.releaseSpoolDocument.ref,
          bundleParameter: release.bundleParameter.parameterName,
          configParameter: release.configParameter.parameterName,
          environmentParameter: release.environmentParameter.parameterName,
          appLogGroup: this.appLog.logGroupName,
          bootstrapLogGroup: bootstrapLog.logGroupName,
        },
      });
    });
    serverRole.allowNodeDuties({
      release,
      spools: this.servers.map((server) => server.spool),
      targetGroups: [this.loadBalancer.targetGroup, this.sftpLoadBalancer.targetGroup],
      sftpHostKey: this.sftpHostKey.secret,
      serverTag: SERVER_TAG,
    });
    release.rollOut(this.servers.map((server) => server.instance.instanceId));

    new CfnOutput(this, OUTPUTS.uploadUrl, {
      value: this.loadBalancer.url,
      description: 'curl -H "Authorization: Bearer $TOKEN" -T FILE URL/v1/files/NAME',
    });
    new CfnOutput(this, OUTPUTS.sftpUrl, {
      value: this.sftpLoadBalancer.endpoint,
      description:
        'sftp -i KEY USER@HOST (port 22), after sudo inlet sftp-users add USER --ssh-key KEY.pub --pipeline P',
    });
    new CfnOutput(this, 'InstanceIds', {
      value: this.servers.map((server) => server.instance.instanceId).join(','),
      description: 'aws ssm start-session --target ID, then sudo inlet tokens create --name NAME',
    });
  }
}
