/** A small VPC Lambda function behind the API: its own log group, role and security group. */
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { bundledCode } from './bundled-code.js';
import { VpcFunction } from './vpc-function.js';

export interface ApiFunctionProps {
  /** A file in infra/functions/. */
  readonly entry: string;
  readonly description: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly environment: Record<string, string>;
}

export class ApiFunction extends VpcFunction {
  constructor(scope: Construct, id: string, props: ApiFunctionProps) {
    super(scope, id, {
      description: props.description,
      roleDescription: props.description,
      securityGroupDescription: `${props.description}: HTTPS to the VPC endpoints`,
      code: bundledCode(props.entry),
      vpc: props.vpc,
      subnets: props.subnets,
      timeout: Duration.seconds(15),
      memorySize: 256,
      environment: props.environment,
    });
  }
}
