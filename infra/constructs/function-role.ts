/**
 * An execution role for a VPC Lambda function with nothing but what every such function needs: writing
 * to its own log group and managing its network interfaces. Callers add their grants to it.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource } from '../nag.js';

/** Lambda creates and deletes the function's ENIs through these; EC2 offers no resource-level scoping for them. */
export const LAMBDA_VPC_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

export interface FunctionRoleProps {
  readonly logGroup: logs.LogGroup;
  readonly description: string;
}

export class FunctionRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: FunctionRoleProps) {
    super(scope, id);
    const logStreams = `${props.logGroup.logGroupArn}:*`;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
      inlinePolicies: {
        logs: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [logStreams],
            }),
          ],
        }),
        vpc: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: [...LAMBDA_VPC_ACTIONS],
              resources: ['*'],
              conditions: { StringEquals: { 'aws:RequestedRegion': Stack.of(this).region } },
            }),
          ],
        }),
      },
    });
    acknowledge(
      this.role,
      'IAM5[Resource::*]',
      'The actions Lambda uses to manage a VPC function ENIs (ec2:CreateNetworkInterface, ' +
        'DescribeNetworkInterfaces, DescribeSubnets, DeleteNetworkInterface, Assign/UnassignPrivateIpAddresses) ' +
        'cannot be scoped to resources that do not exist yet; the statement is limited to this region.',
    );
    acknowledgeWildcardResource(
      this.role,
      logStreams,
      "Lambda names the log streams itself (date and instance id); the grant is limited to this function's own log group.",
    );
  }
}
