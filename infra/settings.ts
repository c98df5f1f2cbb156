/**
 * The deployment's settings, read from CDK context (`-c key=value` or `cdk.json`), each checked with an
 * error that names the key and what it accepts. Two profiles give the defaults: `default`, safe and cheap
 * (a demo or a trial: `npx cdk deploy --all` works without any key), and `production` (`-c
 * profile=production`), which refuses to synthesize what production must not run (a server door without
 * TLS or open to the whole VPC, alarms that reach nobody) and defaults to a Multi-AZ database with
 * Performance Insights and protection on every stack.
 */
import { ConfigError } from '../src/errors.js';

export type Shape = 'both' | 'serverless' | 'server';
export type Profile = 'default' | 'production';

/** The production profile's database class: Performance Insights needs more than a micro or small class. */
export const PRODUCTION_DATABASE_CLASS = 'm6g.large';

export interface InletSettings {
  /** Which defaults apply, and which refusals. @default 'default' */
  readonly profile: Profile;
  /** The context keys given explicitly (the rest are the profile's defaults): for the report on stderr. */
  readonly given: ReadonlySet<string>;
  /** Stack name prefix and the lower-case prefix of fixed resource names. @default 'Inlet' */
  readonly prefix: string;
  /**
   * The region the templates are written for (load balancer log delivery differs by region). The account
   * stays unresolved: no lookups, and the stacks deploy to whichever account the CLI uses.
   * @default CDK_DEFAULT_REGION (the CLI's region), else 'us-east-1'
   */
  readonly region: string;
  /** Which architectures to deploy. @default 'both' */
  readonly shape: Shape;
  /** The pipeline config file (validated at synth, shipped as an S3 asset). @default 'examples/inlet.config.yaml' */
  readonly configFile: string;
  /** NAT gateways; 0 keeps every subnet isolated (VPC endpoints only). @default 0 */
  readonly natGateways: number;
  /** Deletion/termination protection on the database and instances; `false` only to tear down. @default true */
  readonly protect: boolean;
  /** CloudFormation termination protection on every stack. @default protect, in the production profile only */
  readonly stackTerminationProtection: boolean;
  readonly database: {
    /** @default 't4g.micro'; production: PRODUCTION_DATABASE_CLASS */
    readonly instanceClass: string;
    /** @default false; production: true */
    readonly multiAz: boolean;
    /** @default false; production: true */
    readonly performanceInsights: boolean;
    /** @default 20 */
    readonly allocatedStorageGiB: number;
    /** RDS automated backups (point-in-time recovery), 7 to 35 days. @default 7 */
    readonly backupRetentionDays: number;
    /** Days between password rotations. @default 30 */
    readonly rotationDays: number;
  };
  readonly lambda: {
    /** Reserved concurrency, also the SQS event source's maximum concurrency (2 at least). @default 5 */
    readonly concurrency: number;
    /** @default 300 */
    readonly timeoutSeconds: number;
    /** @default 1024 */
    readonly memoryMiB: number;
    /** SQS messages per invocation. @default 5 */
    readonly batchSize: number;
    /** The hand-over task (Fargate) for objects too big for the function: vCPU units. @default 1024 */
    readonly taskCpu: number;
    /** @default 4096 */
    readonly taskMemoryMiB: number;
    /** Fargate ephemeral storage, what the task can spool (Parquet, XLSX, zip). @default 40 */
    readonly taskStorageGiB: number;
    /** The directory holding the task image's Dockerfile. @default '.' (the repository) */
    readonly taskImageDir: string;
    /** The directory holding the `npm run build:lambda` bundle. @default 'dist-deploy/lambda' */
    readonly codeDir: string;
  };
  readonly server: {
    /** @default 1 */
    readonly instances: number;
    /** @default 't4g.small' */
    readonly instanceType: string;
    /** @default 50 */
    readonly spoolVolumeGiB: number;
    /** The directory holding the `npm run build:server` bundle. @default 'dist-deploy/server' */
    readonly bundleDir: string;
    /** An ACM certificate ARN: the load balancer then listens on 443 with TLS only. */
    readonly certificateArn: string | undefined;
    /** Internet-facing load balancer (needs certificateArn and natGateways ≥ 1 or public subnets). @default false */
    readonly publicLoadBalancer: boolean;
    /** Who may reach the load balancer. @default the VPC's CIDR (internal), '0.0.0.0/0' when public */
    readonly clientCidr: string | undefined;
  };
  readonly backups: {
    /** AWS Backup schedule for the database (EventBridge cron). @default 'cron(0 3 * * ? *)' */
    readonly databaseSchedule: string;
    /** @default 35 */
    readonly databaseRetentionDays: number;
    /** AWS Backup schedule for the spool volumes. @default 'cron(0 * * * ? *)' (hourly) */
    readonly spoolSchedule: string;
    /** @default 7 */
    readonly spoolRetentionDays: number;
    /**
     * Turn on the region's EBS snapshot block public access. Account-wide, so opt-in: an organisation may
     * manage it, and it stays on after `cdk destroy`. @default false
     */
    readonly blockSnapshotPublicAccess: boolean;
  };
  /**
   * Create the account's API Gateway CloudWatch role (account-wide, kept after `cdk destroy`). Opt-in:
   * without it the API logs through the role the account already has. @default false
   */
  readonly apiGatewayLoggingRole: boolean;
  /** E-mail addresses subscribed to the alarm topic (`alarmEmail`, comma-separated). Production needs one. */
  readonly alarmEmails: readonly string[];
  /** The largest file a presigned upload through the API may carry. @default 1 GiB (as INLET_MAX_UPLOAD_BYTES) */
  readonly apiMaxUploadBytes: number;
}

/** What `tryGetContext` offers: a CDK App or Stack node. */
export interface ContextSource {
  tryGetContext(key: string): unknown;
}

export function readSettings(source: ContextSource, env: NodeJS.ProcessEnv = process.env): InletSettings {
  const read = new ContextReader(source);
  const profile = read.choice('profile', ['default', 'production'] as const, 'default');
  const production = profile === 'production';
  const shape = read.choice('shape', ['both', 'serverless', 'server'] as const, 'both');
  const certificateArn = read.optionalString(
    'certificateArn',
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/,
  );
  const clientCidr = read.optionalString('clientCidr', /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/);
  const publicLoadBalancer = read.boolean('publicLoadBalancer', false);
  const natGateways = read.integer('natGateways', 0, 0, 2);
  if (publicLoadBalancer && certificateArn === undefined) {
    throw new ConfigError(
      'invalid_context',
      'publicLoadBalancer=true needs certificateArn: an internet-facing load balancer only listens with TLS.',
    );
  }
  const alarmEmails = (read.optionalString('alarmEmail', /^[^@\s,]+@[^@\s,]+(,[^@\s,]+@[^@\s,]+)*$/) ?? '')
    .split(',')
    .filter((email) => email !== '');
  const instanceClass = read.string(
    'dbInstanceClass',
    production ? PRODUCTION_DATABASE_CLASS : 't4g.micro',
    /^[a-z0-9]+\.[a-z0-9]+$/,
  );
  const performanceInsights = read.boolean('performanceInsights', production);
  const protect = read.boolean('protect', true);
  if (production) {
    refuseUnfitForProduction({
      shape,
      certificateArn,
      clientCidr,
      alarmEmails,
      instanceClass,
      performanceInsights,
    });
  }
  return {
    profile,
    given: read.given,
    prefix: read.string('prefix', 'Inlet', /^[A-Za-z][A-Za-z0-9]{0,19}$/),
    region: read.string('region', env.CDK_DEFAULT_REGION || 'us-east-1', /^[a-z]{2}(-[a-z]+)+-\d$/),
    shape,
    configFile: read.string('config', 'examples/inlet.config.yaml'),
    natGateways,
    protect,
    stackTerminationProtection: production && protect,
    database: {
      instanceClass,
      multiAz: read.boolean('multiAz', production),
      performanceInsights,
      allocatedStorageGiB: read.integer('dbAllocatedStorageGiB', 20, 20, 65_536),
      backupRetentionDays: read.integer('dbBackupRetentionDays', 7, 7, 35),
      rotationDays: read.integer('dbRotationDays', 30, 1, 365),
    },
    lambda: {
      concurrency: read.integer('lambdaConcurrency', 5, 2, 1000),
      timeoutSeconds: read.integer('lambdaTimeoutSeconds', 300, 30, 900),
      memoryMiB: read.integer('lambdaMemoryMiB', 1024, 256, 10_240),
      batchSize: read.integer('batchSize', 5, 1, 10),
      codeDir: read.string('lambdaCodeDir', 'dist-deploy/lambda'),
      taskCpu: read.integer('taskCpu', 1024, 256, 16_384),
      taskMemoryMiB: read.integer('taskMemoryMiB', 4096, 512, 122_880),
      taskStorageGiB: read.integer('taskStorageGiB', 40, 21, 200),
      taskImageDir: read.string('taskImageDir', '.'),
    },
    server: {
      instances: read.integer('serverInstances', 1, 1, 10),
      instanceType: read.string('serverInstanceType', 't4g.small', /^[a-z0-9]+\.[a-z0-9]+$/),
      spoolVolumeGiB: read.integer('spoolVolumeGiB', 50, 1, 16_384),
      bundleDir: read.string('serverBundleDir', 'dist-deploy/server'),
      certificateArn,
      publicLoadBalancer,
      clientCidr,
    },
    backups: {
      databaseSchedule: read.string('backupSchedule', 'cron(0 3 * * ? *)', /^cron\(.+\)$/),
      databaseRetentionDays: read.integer('backupRetentionDays', 35, 1, 36_500),
      spoolSchedule: read.string('spoolBackupSchedule', 'cron(0 * * * ? *)', /^cron\(.+\)$/),
      spoolRetentionDays: read.integer('spoolBackupRetentionDays', 7, 1, 36_500),
      blockSnapshotPublicAccess: read.boolean('blockSnapshotPublicAccess', false),
    },
    apiGatewayLoggingRole: read.boolean('apiGatewayLoggingRole', false),
    alarmEmails,
    // S3 takes at most 5 GB in one POST.
    apiMaxUploadBytes: read.integer('apiMaxUploadBytes', 1024 ** 3, 1, 5 * 1000 ** 3),
  };
}

/** What production must not run; each refusal names the key that fixes it. */
function refuseUnfitForProduction(chosen: {
  shape: Shape;
  certificateArn: string | undefined;
  clientCidr: string | undefined;
  alarmEmails: readonly string[];
  instanceClass: string;
  performanceInsights: boolean;
}): void {
  const missing: string[] = [];
  if (chosen.shape !== 'serverless') {
    if (chosen.certificateArn === undefined) {
      missing.push('certificateArn (the server door listens with HTTPS only, TLS 1.2 or later)');
    }
    if (chosen.clientCidr === undefined) {
      missing.push(
        'clientCidr (who may reach the server door; the default, the whole VPC, is not a decision)',
      );
    }
  }
  if (chosen.alarmEmails.length === 0) {
    missing.push('alarmEmail (alarms that reach nobody fail silently)');
  }
  if (missing.length > 0) {
    throw new ConfigError(
      'invalid_context',
      `profile=production needs ${missing.join('; ')}. Give each with -c key=value` +
        (chosen.shape !== 'serverless' ? ', or deploy -c shape=serverless without the server door.' : '.'),
    );
  }
  if (chosen.performanceInsights && /^t[0-9][a-z]*\.(micro|small)$/.test(chosen.instanceClass)) {
    throw new ConfigError(
      'invalid_context',
      `profile=production turns on Performance Insights, which db.${chosen.instanceClass} does not support: ` +
        `choose a larger dbInstanceClass (the profile's default is ${PRODUCTION_DATABASE_CLASS}).`,
    );
  }
}

/** Context values arrive as strings from `-c key=value` and as JSON values from cdk.json: accept both. */
class ContextReader {
  readonly given = new Set<string>();

  constructor(private readonly source: ContextSource) {}

  private raw(key: string): unknown {
    const value = this.source.tryGetContext(key);
    if (value === '' || value === undefined || value === null) return undefined;
    this.given.add(key);
    return value;
  }

  optionalString(key: string, pattern?: RegExp): string | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || (pattern !== undefined && !pattern.test(value))) {
      throw invalid(key, `a string${pattern ? ` matching ${pattern}` : ''}`, value);
    }
    return value;
  }

  string(key: string, fallback: string, pattern?: RegExp): string {
    return this.optionalString(key, pattern) ?? fallback;
  }

  choice<T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const value = this.raw(key) ?? fallback;
    if (!choices.includes(value as T)) throw invalid(key, `one of ${choices.join(', ')}`, value);
    return value as T;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.raw(key);
    if (value === undefined || value === null) return fallback;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw invalid(key, 'true or false', value);
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const value = this.raw(key);
    if (value === undefined || value === null) return fallback;
    const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
      throw invalid(key, `a whole number from ${min} to ${max}`, value);
    }
    return number;
  }
}

function invalid(key: string, expected: string, value: unknown): ConfigError {
  return new ConfigError(
    'invalid_context',
    `context "${key}" must be ${expected}, got ${JSON.stringify(value)}.`,
  );
}
