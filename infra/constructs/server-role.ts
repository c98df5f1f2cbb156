/**
 * The instances' role: Session Manager (the AWS-managed core policy, instead of SSH), the two CDK assets
 * it downloads, the database secret, the ingestion topic, its own log groups, and CloudWatch metrics
 * in the agent's namespace only.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource } from '../nag.js';
import { AGENT_NAMESPACE } from '../server-files.js';

export interface ServerRoleProps {
  readonly assets: readonly s3assets.Asset[];
  readonly databaseSecret: secretsmanager.ISecret;
  readonly ingestionEvents: sns.ITopic;
  readonly logGroups: readonly logs.LogGroup[];
}

export class ServerRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ServerRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Inlet server instances: Session Manager, assets, database secret, logs and metrics',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    for (const asset of props.assets) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)],
        }),
      );
    }
    props.databaseSecret.grantRead(this.role);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.ingestionEvents.topicArn] }),
    );
    for (const logGroup of props.logGroups) {
      const streams = `${logGroup.logGroupArn}:*`;
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [streams],
        }),
      );
      acknowledgeWildcardResource(
        this.role,
        streams,
        'The CloudWatch agent creates one log stream per instance in this log group; the grant is limited to ' +
          'the log groups this stack creates for the service.',
      );
    }
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': AGENT_NAMESPACE } },
      }),
    );
    acknowledge(
      this.role,
      'IAM5[Resource::*]',
      'cloudwatch:PutMetricData has no resource-level permissions (it only accepts "*"); the statement is ' +
        'limited to the CloudWatch agent namespace with the cloudwatch:namespace condition.',
    );
    acknowledge(
      this.role,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      'Session Manager replaces SSH (no key pair, no open port); AmazonSSMManagedInstanceCore is the ' +
        'AWS-maintained minimum the SSM agent needs, and AWS updates it with the agent.',
    );
  }
}
