/**
 * The network both shapes run in: a VPC across two AZs with private subnets only (unless NAT or a public
 * load balancer is asked for), an S3 gateway endpoint and the interface endpoints the workloads call,
 * so nothing needs a NAT gateway by default, and VPC flow logs to S3.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { LogBucket } from '../constructs/log-bucket.js';
import type { InletSettings } from '../settings.js';

export interface NetworkStackProps extends StackProps {
  readonly settings: InletSettings;
}

/** The AWS services the workloads call from inside the VPC, by shape (S3 goes through the gateway endpoint). */
export function interfaceEndpointsFor(
  settings: InletSettings,
): Record<string, ec2.InterfaceVpcEndpointAwsService> {
  const endpoints: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
    // Database credentials: the functions, the instances and the rotation function read the secret.
    SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    // Ingestion notifications published by the function and the server.
    Sns: ec2.InterfaceVpcEndpointAwsService.SNS,
  };
  if (settings.shape !== 'server') {
    // The ingest function starts the hand-over task (ecs:RunTask); the task pulls its image from ECR (whose
    // layers come through the S3 gateway endpoint) and writes its log group.
    endpoints.Ecs = ec2.InterfaceVpcEndpointAwsService.ECS;
    endpoints.EcrApi = ec2.InterfaceVpcEndpointAwsService.ECR;
    endpoints.EcrDocker = ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER;
    endpoints.Logs = ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS;
  }
  if (settings.shape !== 'serverless') {
    // Session Manager instead of SSH, and the CloudWatch agent's logs and metrics.
    endpoints.Ssm = ec2.InterfaceVpcEndpointAwsService.SSM;
    endpoints.SsmMessages = ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES;
    endpoints.Ec2Messages = ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES;
    endpoints.Logs = ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS;
    endpoints.Monitoring = ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING;
    // inlet-node: the creation signal, the spool volume's handover, joining and leaving the target group.
    endpoints.CloudFormation = ec2.InterfaceVpcEndpointAwsService.CLOUDFORMATION;
    endpoints.Ec2 = ec2.InterfaceVpcEndpointAwsService.EC2;
    endpoints.ElasticLoadBalancing = ec2.InterfaceVpcEndpointAwsService.ELASTIC_LOAD_BALANCING;
  }
  return endpoints;
}

/** A literal, not a token: security group rules and cdk-nag can then see exactly what they allow. */
export const VPC_CIDR = '10.40.0.0/16';

export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;
  /** Lambda functions, instances, the RDS Proxy, an internal load balancer and the endpoints. */
  readonly appSubnets: ec2.SubnetSelection;
  /** The database: isolated, whatever NAT setting. */
  readonly dataSubnets: ec2.SubnetSelection;
  /** Only with NAT gateways or a public load balancer. */
  readonly publicSubnets: ec2.SubnetSelection | undefined;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const withPublic = settings.natGateways > 0 || settings.server.publicLoadBalancer;
    const appSubnetType =
      settings.natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(VPC_CIDR),
      maxAzs: 2,
      natGateways: settings.natGateways,
      subnetConfiguration: [
        ...(withPublic ? [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }] : []),
        { name: 'app', subnetType: appSubnetType, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: {
        // Inbox objects, the CDK assets and the Amazon Linux package repositories (hosted on S3).
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });
    this.appSubnets = { subnetGroupName: 'app' };
    this.dataSubnets = { subnetGroupName: 'data' };
    this.publicSubnets = withPublic ? { subnetGroupName: 'public' } : undefined;

    for (const [name, service] of Object.entries(interfaceEndpointsFor(settings))) {
      const endpoint = this.vpc.addInterfaceEndpoint(name, {
        service,
        subnets: this.appSubnets,
        privateDnsEnabled: true,
        open: false,
      });
      endpoint.connections.allowFrom(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), 'HTTPS from inside the VPC');
    }

    const flowLogs = new LogBucket(this, 'FlowLogs');
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toS3(flowLogs.bucket, 'vpc-flow-logs/'),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
  }
}
