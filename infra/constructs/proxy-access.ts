/**
 * Lets one security group reach the RDS Proxy on 5432. The ingress rule lives in the consumer's stack:
 * the Data stack then never depends on the stacks that use it, whatever order they are added in.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

export const POSTGRES_PORT = 5432;

export class ProxyAccess extends Construct {
  constructor(
    scope: Construct,
    id: string,
    props: {
      readonly proxySecurityGroup: ec2.ISecurityGroup;
      readonly from: ec2.ISecurityGroup;
      readonly description: string;
    },
  ) {
    super(scope, id);
    new ec2.CfnSecurityGroupIngress(this, 'Ingress', {
      groupId: props.proxySecurityGroup.securityGroupId,
      sourceSecurityGroupId: props.from.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: POSTGRES_PORT,
      toPort: POSTGRES_PORT,
      description: props.description,
    });
  }
}
