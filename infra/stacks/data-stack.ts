/**
 * What both shapes share: RDS for PostgreSQL 17 (the embedded default's major version), encrypted,
 * backed up, deletion-protected, never public, with its credentials in Secrets Manager (rotated), a
 * least-privilege role per path (ingest, status) with its own rotated secret, and an RDS Proxy in front;
 * and the topic that gets a message per finished or failed ingestion.
 */
import { Duration, RemovalPolicy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { BACKUP_TAG, BackupClass } from '../backup-tags.js';
import { DatabaseRoles } from '../constructs/database-roles.js';
import { acknowledge } from '../nag.js';
import type { InletSettings } from '../settings.js';
import type { NetworkStack } from './network-stack.js';

export interface DataStackProps extends StackProps {
  readonly settings: InletSettings;
  readonly network: NetworkStack;
}

export const DATABASE_NAME = 'inlet';
export const DATABASE_USER = 'inlet';

export class DataStack extends Stack {
  readonly database: rds.DatabaseInstance;
  /** RDS's master user: only the database set-up and its own rotation use it. */
  readonly masterSecret: secretsmanager.ISecret;
  /** The ingest role's (the Lambda function and `inlet serve`): loads files, writes the ledger. */
  readonly ingestSecret: secretsmanager.ISecret;
  /** The status role's (the status API): reads the ledger. */
  readonly statusSecret: secretsmanager.ISecret;
  /** Every secret Secrets Manager rotates: a failed rotation of any of them raises an alarm. */
  readonly rotatedSecrets: readonly secretsmanager.ISecret[];
  readonly proxy: rds.DatabaseProxy;
  readonly proxySecurityGroup: ec2.SecurityGroup;
  readonly ingestionEvents: sns.Topic;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { settings, network } = props;
    const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 });
    const identifier = `${settings.prefix.toLowerCase()}-db`;

    // Created before the instance so that its retention applies (RDS would create it without one).
    const postgresLog = new logs.LogGroup(this, 'PostgresLog', {
      logGroupName: `/aws/rds/instance/${identifier}/postgresql`,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.database = new rds.DatabaseInstance(this, 'Database', {
      engine,
      // A fixed identifier: CloudFormation then refuses a change that would replace the database.
      instanceIdentifier: identifier,
      instanceType: new ec2.InstanceType(settings.database.instanceClass),
      vpc: network.vpc,
      vpcSubnets: network.dataSubnets,
      publiclyAccessible: false,
      multiAz: settings.database.multiAz,
      enablePerformanceInsights: settings.database.performanceInsights,
      credentials: rds.Credentials.fromGeneratedSecret(DATABASE_USER),
      databaseName: DATABASE_NAME,
      storageType: rds.StorageType.GP3,
      allocatedStorage: settings.database.allocatedStorageGiB,
      maxAllocatedStorage: Math.min(settings.database.allocatedStorageGiB * 5, 65_536),
      storageEncrypted: true,
      backupRetention: Duration.days(settings.database.backupRetentionDays),
      preferredBackupWindow: '02:00-02:30',
      preferredMaintenanceWindow: 'sun:04:00-sun:04:30',
      deletionProtection: settings.protect,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      iamAuthentication: true,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      parameterGroup: new rds.ParameterGroup(this, 'Parameters', {
        engine,
        description: 'Inlet: TLS required for every connection',
        parameters: { 'rds.force_ssl': '1' },
      }),
      cloudwatchLogsExports: ['postgresql'],
    });
    this.database.node.addDependency(postgresLog);
    Tags.of(this.database).add(BACKUP_TAG, BackupClass.database);
    if (this.database.secret === undefined) throw new Error('generated credentials always have a secret');
    this.masterSecret = this.database.secret;

    const roles = new DatabaseRoles(this, 'Roles', {
      vpc: network.vpc,
      subnets: network.appSubnets,
      database: this.database,
      databaseName: DATABASE_NAME,
      masterSecret: this.masterSecret,
      rotationDays: settings.database.rotationDays,
    });
    // No `endpoint` override: the interface endpoint has private DNS, so the rotation function reaches
    // Secrets Manager at its usual name, which resolves to the endpoint inside the VPC.
    const masterRotation = this.database.addRotationSingleUser({
      automaticallyAfter: Duration.days(settings.database.rotationDays),
      vpcSubnets: network.appSubnets,
    });
    masterRotation.node.addDependency(roles.setUp);
    this.ingestSecret = roles.ingestSecret;
    this.statusSecret = roles.statusSecret;
    this.rotatedSecrets = [this.masterSecret, this.ingestSecret, this.statusSecret];

    this.proxySecurityGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
      vpc: network.vpc,
      description: 'Inlet RDS Proxy: PostgreSQL from the ingest function, the API and the instances',
    });
    const proxySecurityGroup = this.proxySecurityGroup;
    this.proxy = new rds.DatabaseProxy(this, 'Proxy', {
      proxyTarget: rds.ProxyTarget.fromInstance(this.database),
      // The workloads' roles only: the master user is not reachable through the proxy.
      secrets: [this.ingestSecret, this.statusSecret],
      vpc: network.vpc,
      vpcSubnets: network.appSubnets,
      securityGroups: [proxySecurityGroup],
      requireTLS: true,
      iamAuth: false,
      idleClientTimeout: Duration.minutes(30),
      maxConnectionsPercent: 90,
      debugLogging: false,
    });
    this.database.connections.allowDefaultPortFrom(proxySecurityGroup, 'from the RDS Proxy');

    this.ingestionEvents = new sns.Topic(this, 'IngestionEvents', {
      displayName: 'Inlet ingestions: one message per finished or failed file',
      masterKey: kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
    });

    acknowledge(
      this.database,
      'RDS11',
      'Clients reach PostgreSQL only through RDS Proxy, which listens on 5432 for PostgreSQL whatever the ' +
        "instance's port; the instance accepts connections only from the proxy, set-up and rotation security " +
        'groups, so a non-default port would add no protection.',
    );
    if (!settings.database.multiAz) {
      acknowledge(
        this.database,
        'RDS3',
        'Multi-AZ is off by default to halve the at-rest cost (-c multiAz=true adds a synchronous standby). ' +
          'A failed load is retried and SQS or the spool redelivers the file, so an AZ outage delays ' +
          'ingestion without losing an acknowledged file; automated backups give point-in-time recovery.',
      );
    }
    if (!settings.protect) {
      acknowledge(
        this.database,
        'RDS10',
        'Deletion protection was turned off on purpose with -c protect=false, the documented first step of ' +
          'tearing the deployment down; a final snapshot is still taken on delete (RemovalPolicy.SNAPSHOT).',
      );
    }
  }
}
