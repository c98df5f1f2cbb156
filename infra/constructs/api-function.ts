/** A small VPC Lambda function behind the API: its own log group, role and security group. */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeNodeRuntime, NODE_RUNTIME } from '../runtime.js';
import { bundledCode } from './bundled-code.js';
import { FunctionRole } from './function-role.js';

export interface ApiFunctionProps {
  /** A file in infra/functions/. */
  readonly entry: string;
  readonly description: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly environment: Record<string, string>;
}

export class ApiFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: ApiFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Log', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new FunctionRole(this, 'Execution', { logGroup, description: props.description }).role;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.description}: HTTPS to the VPC endpoints`,
    });
    this.function = new lambda.Function(this, 'Function', {
      description: props.description,
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: bundledCode(props.entry),
      role: this.role,
      logGroup,
      timeout: Duration.seconds(15),
      memorySize: 256,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      environment: props.environment,
    });
    acknowledgeNodeRuntime(this.function);
  }
}
