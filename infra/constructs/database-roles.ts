/**
 * The least-privilege login roles the workloads use instead of RDS's master user (infra/functions/
 * database-roles.ts says what each may do): a secret per role, attached to the instance and rotated on
 * its own schedule, and a custom resource that creates the roles, grants them their privileges and
 * migrates Inlet's schema as the ingest role, on the first deployment and whenever the grants or the
 * migrations change.
 *
 * Each role rotates itself (single-user rotation: it sets its own new password, which PostgreSQL allows
 * any role). Alternating users would log in as `<role>_clone` after every other rotation, and the tables
 * and schemas the clone created would belong to it, out of the other's reach.
 */
import { createHash } from 'node:crypto';
import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { migrations } from '../../src/db/migrations/index.js';
import { databaseGrants, INGEST_ROLE, STATUS_ROLE, statusGrants } from '../functions/database-roles.js';
import type { DatabaseSetupProperties } from '../functions/database-setup-handler.js';
import { acknowledge, acknowledgeWildcardResource } from '../nag.js';
import { bundledCode } from './bundled-code.js';
import { POSTGRES_PORT } from './proxy-access.js';
import { VpcFunction } from './vpc-function.js';

export interface DatabaseRolesProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly database: rds.DatabaseInstance;
  readonly databaseName: string;
  /** Used by the set-up only, to create the roles. */
  readonly masterSecret: secretsmanager.ISecret;
  readonly rotationDays: number;
}

export class DatabaseRoles extends Construct {
  /** The Lambda function and `inlet serve`: loads files, writes the ledger, migrates Inlet's schema. */
  readonly ingestSecret: secretsmanager.ISecret;
  /** The status API: reads the ledger. */
  readonly statusSecret: secretsmanager.ISecret;
  /**
   * Done once the roles exist with their grants. A rotation (which starts as soon as its schedule exists)
   * must wait for it: the master's too, or the set-up could read a password the rotation is replacing.
   */
  readonly setUp: CustomResource;

  constructor(scope: Construct, id: string, props: DatabaseRolesProps) {
    super(scope, id);
    this.ingestSecret = this.roleSecret('IngestSecret', INGEST_ROLE, props);
    this.statusSecret = this.roleSecret('StatusSecret', STATUS_ROLE, props);

    const setup = new VpcFunction(this, 'Setup', {
      description: 'Inlet: creates the database roles and migrates Inlet schema (deploy time only)',
      roleDescription: 'Inlet database set-up: reads the three database secrets, connects to the instance',
      securityGroupDescription: 'Inlet database set-up: PostgreSQL to the instance, HTTPS to Secrets Manager',
      code: bundledCode('database-setup-handler.ts'),
      vpc: props.vpc,
      subnets: props.subnets,
      timeout: Duration.minutes(2),
      memorySize: 256,
      // The instance's certificate chains to the RDS certificate authorities, which Lambda's Node.js
      // runtimes ship in this file but load only when asked.
      environment: { NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' },
    });
    for (const secret of [props.masterSecret, this.ingestSecret, this.statusSecret]) {
      secret.grantRead(setup.role);
    }
    // Its own resource, so that the set-up can wait for it (a rule added through the instance's
    // connections would be part of the instance, and waiting for that would wait for its rotation too).
    const access = new ec2.CfnSecurityGroupIngress(this, 'DatabaseAccess', {
      groupId: onlySecurityGroup(props.database).securityGroupId,
      sourceSecurityGroupId: setup.securityGroup.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: POSTGRES_PORT,
      toPort: POSTGRES_PORT,
      description: 'PostgreSQL from the Inlet database set-up',
    });

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: setup.function,
      logGroup: new logs.LogGroup(this, 'ProviderLog', {
        retention: logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    acknowledgeProvider(provider, setup);
    const properties: DatabaseSetupProperties & Record<string, string> = {
      DatabaseName: props.databaseName,
      MasterSecretArn: props.masterSecret.secretArn,
      IngestSecretArn: this.ingestSecret.secretArn,
      StatusSecretArn: this.statusSecret.secretArn,
      // Run again when what it applies changes: another grant, or a release with a new migration.
      Grants: grantsDigest(),
      Migrations: migrations.map((migration) => migration.version).join(','),
    };
    this.setUp = new CustomResource(this, 'Roles', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::InletDatabaseRoles',
      properties,
    });
    this.setUp.node.addDependency(access);

    for (const [name, secret] of [
      ['IngestRotation', this.ingestSecret],
      ['StatusRotation', this.statusSecret],
    ] as const) {
      const rotation = new secretsmanager.SecretRotation(this, name, {
        application: secretsmanager.SecretRotationApplication.POSTGRES_ROTATION_SINGLE_USER,
        secret,
        target: props.database,
        vpc: props.vpc,
        vpcSubnets: props.subnets,
        automaticallyAfter: Duration.days(props.rotationDays),
      });
      // A rotation starts as soon as its schedule exists and logs in as the role: the role must exist first.
      rotation.node.addDependency(this.setUp);
    }
  }

  private roleSecret(id: string, username: string, props: DatabaseRolesProps): secretsmanager.ISecret {
    const secret = new rds.DatabaseSecret(this, id, { username, dbname: props.databaseName });
    // Attached, it holds the instance's host and port as well: the rotation function connects there.
    return secret.attach(props.database);
  }
}

function onlySecurityGroup(database: rds.DatabaseInstance): ec2.ISecurityGroup {
  const [group, ...others] = database.connections.securityGroups;
  if (group === undefined || others.length > 0)
    throw new Error('the database has exactly one security group');
  return group;
}

/** Changes exactly when the statements the set-up runs change (the role names stand in as themselves). */
function grantsDigest(): string {
  const names = { database: 'database', ingest: INGEST_ROLE, status: STATUS_ROLE };
  const statements = [...databaseGrants(names), ...statusGrants(names)];
  return createHash('sha256').update(statements.join('\n')).digest('hex').slice(0, 16);
}

/** CDK's provider framework function, which relays CloudFormation's requests to the set-up function. */
function acknowledgeProvider(provider: cr.Provider, setup: VpcFunction): void {
  const framework = provider.node.findChild('framework-onEvent');
  acknowledge(
    framework,
    'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    "CDK's custom-resource provider framework (a deploy-time function that relays CloudFormation's " +
      'requests to the set-up function and answers them); the managed policy only lets it write its logs.',
  );
  acknowledgeWildcardResource(
    framework,
    `${setup.function.functionArn}:*`,
    "CDK's provider framework may invoke the set-up function's versions and aliases (`<function ARN>:*`); " +
      'the grant names this one function.',
  );
}
