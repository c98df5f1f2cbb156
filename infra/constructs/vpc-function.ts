/**
 * What every Inlet Lambda function is made of: its own log group (kept three months), a role that
 * starts with nothing but writing to that log group, a security group of its own, and the Node runtime
 * and architecture the bundles are built for, in the VPC's private subnets. The functions extend it and
 * add their grants and triggers.
 */
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeNodeRuntime, NODE_RUNTIME } from '../runtime.js';
import { FunctionRole } from './function-role.js';

export interface VpcFunctionProps {
  readonly description: string;
  /** What the role is for, as IAM shows it. */
  readonly roleDescription: string;
  /** What the security group lets the function reach. */
  readonly securityGroupDescription: string;
  readonly code: lambda.Code;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly environment: Record<string, string>;
  readonly reservedConcurrentExecutions?: number;
}

export class VpcFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: VpcFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Log', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new FunctionRole(this, 'Execution', { logGroup, description: props.roleDescription }).role;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: props.securityGroupDescription,
    });
    this.function = new lambda.Function(this, 'Function', {
      description: props.description,
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: props.code,
      role: this.role,
      logGroup,
      timeout: props.timeout,
      memorySize: props.memorySize,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      environment: props.environment,
    });
    acknowledgeNodeRuntime(this.function);
  }
}
