/**
 * The load balancer in front of the upload service: internal by default; TLS only (443, a modern policy)
 * when a certificate ARN is given, else plain HTTP on 80 and only ever internal (settings refuse a public
 * one without a certificate). Health checks hit /healthz, the only route without a token; access logs
 * go to the stack's log bucket. The target group starts empty: each instance registers itself once its
 * /healthz answers, and deregisters (draining) before an update or before giving its spool away.
 */
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';
import { SERVER_PORT } from '../server-files.js';

/** TLS 1.3 and 1.2 only, forward-secret ciphers: the listener's policy whenever a certificate is given. */
export const TLS_POLICY = elbv2.SslPolicy.RECOMMENDED_TLS;

export interface UploadLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly internetFacing: boolean;
  readonly certificateArn: string | undefined;
  readonly clientCidr: string;
  readonly instanceSecurityGroup: ec2.ISecurityGroup;
  readonly accessLogs: s3.IBucket;
  readonly protect: boolean;
}

export class UploadLoadBalancer extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly url: string;

  constructor(scope: Construct, id: string, props: UploadLoadBalancerProps) {
    super(scope, id);
    const tls = props.certificateArn !== undefined;
    const port = tls ? 443 : 80;
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Inlet load balancer: ${tls ? 'HTTPS' : 'HTTP'} from ${props.clientCidr}, to the instances`,
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(ec2.Peer.ipv4(props.clientCidr), ec2.Port.tcp(port), 'upload clients');
    securityGroup.addEgressRule(
      props.instanceSecurityGroup,
      ec2.Port.tcp(SERVER_PORT),
      'to the Inlet instances',
    );
    props.instanceSecurityGroup.addIngressRule(
      securityGroup,
      ec2.Port.tcp(SERVER_PORT),
      'from the load balancer',
    );

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      internetFacing: props.internetFacing,
      securityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: props.protect,
      idleTimeout: Duration.seconds(120),
    });
    this.loadBalancer.logAccessLogs(props.accessLogs, 'alb');

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'Targets', {
      vpc: props.vpc,
      port: SERVER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      healthCheck: {
        path: '/healthz',
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      // Matches the service's shutdown: uploads in progress finish before the instance goes away.
      deregistrationDelay: Duration.seconds(60),
    });
    this.loadBalancer.addListener('Listener', {
      port,
      protocol: tls ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
      ...(tls
        ? {
            certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn as string)],
            sslPolicy: TLS_POLICY,
          }
        : {}),
      open: false,
      defaultTargetGroups: [this.targetGroup],
    });
    this.url = `${tls ? 'https' : 'http'}://${this.loadBalancer.loadBalancerDnsName}`;

    if (props.clientCidr === '0.0.0.0/0') {
      acknowledge(
        securityGroup,
        'EC23',
        'An internet-facing upload endpoint was asked for (-c publicLoadBalancer=true): it listens with TLS only, ' +
          'and every route but /healthz requires a bearer token, with per-token rate limits in the service.',
      );
    }
  }
}
