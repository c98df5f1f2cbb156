/**
 * The SFTP door's way in: a Network Load Balancer (the application load balancer speaks only HTTP) with a
 * TCP listener on 22 forwarding to the instances on the SFTP port, in the same subnets as the upload load
 * balancer. Its security group takes TCP 22 from `clientCidr` only and reaches the instances on the SFTP
 * port only; the instances take that port from this security group only. Client IP preservation stays on
 * (the default for instance targets): the door's per-address back-off on failed sign-ins sees the partner's
 * address, not the load balancer's, and the instances' rule still names the load balancer's security group.
 * Like the HTTP target group, this one starts empty: `inlet-node` registers each instance once /healthz
 * answers and deregisters it before an update, so a partner's session finishes during the drain.
 */
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';
import { SFTP_PORT } from '../server-files.js';

/** What partners connect to: OpenSSH's default port, so `sftp user@host` needs no `-P`. */
export const SFTP_LISTENER_PORT = 22;

export interface SftpLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly internetFacing: boolean;
  readonly clientCidr: string;
  readonly instanceSecurityGroup: ec2.ISecurityGroup;
  readonly accessLogs: s3.IBucket;
  readonly protect: boolean;
}

export class SftpLoadBalancer extends Construct {
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly targetGroup: elbv2.NetworkTargetGroup;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: SftpLoadBalancerProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Inlet SFTP load balancer: SSH from ${props.clientCidr}, to the instances on the SFTP port`,
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(
      ec2.Peer.ipv4(props.clientCidr),
      ec2.Port.tcp(SFTP_LISTENER_PORT),
      'SFTP partners',
    );
    this.securityGroup.addEgressRule(
      props.instanceSecurityGroup,
      ec2.Port.tcp(SFTP_PORT),
      'to the Inlet instances (SFTP and its health check)',
    );
    props.instanceSecurityGroup.addIngressRule(
      this.securityGroup,
      ec2.Port.tcp(SFTP_PORT),
      'SFTP from the SFTP load balancer',
    );

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      internetFacing: props.internetFacing,
      securityGroups: [this.securityGroup],
      deletionProtection: props.protect,
    });
    // An NLB writes access logs for TLS listeners only, so none arrive for this TCP listener; turned on all
    // the same, so that a TLS listener added later is logged without another change.
    this.loadBalancer.logAccessLogs(props.accessLogs, 'nlb');

    this.targetGroup = new elbv2.NetworkTargetGroup(this, 'Targets', {
      vpc: props.vpc,
      port: SFTP_PORT,
      protocol: elbv2.Protocol.TCP,
      targetType: elbv2.TargetType.INSTANCE,
      healthCheck: {
        protocol: elbv2.Protocol.TCP,
        port: String(SFTP_PORT),
        interval: Duration.seconds(15),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      // The HTTP target group's: a partner's put in progress finishes before the instance goes away.
      deregistrationDelay: Duration.seconds(60),
    });
    this.loadBalancer.addListener('Listener', {
      port: SFTP_LISTENER_PORT,
      protocol: elbv2.Protocol.TCP,
      defaultTargetGroups: [this.targetGroup],
    });

    if (props.clientCidr === '0.0.0.0/0') {
      acknowledge(
        this.securityGroup,
        'EC23',
        'An internet-facing endpoint was asked for (-c publicLoadBalancer=true): SFTP is SSH, encrypted end to ' +
          'end; the door takes public keys only unless a user is given a password, and backs off failed sign-ins ' +
          'per source address.',
      );
    }
  }

  get endpoint(): string {
    return `sftp://${this.loadBalancer.loadBalancerDnsName}`;
  }
}
