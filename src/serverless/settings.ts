/**
 * The Lambda's settings from the environment (docs/environment.md; the CDK app sets them), read once per
 * container. The one file of src/serverless that reads process.env.
 */
import { DEFAULT_CONFIG_PATH } from '../config/default-path.js';
import { ConfigError } from '../errors.js';
import { type DatabaseSecretSettings, databaseFrom } from '../settings/database.js';
import { type Env, integer, text } from '../settings/env.js';
import { notifyTopicArnFrom } from '../settings/notify.js';
import { type S3Connection, s3ConnectionFrom } from '../settings/s3.js';
import type { EcsHandOverSettings } from './ecs-hand-over.js';

export interface LambdaSettings {
  /** INLET_CONFIG: a file in the bundle or an `s3://` URI; default `inlet.config.yaml`. */
  readonly config: string;
  /** DATABASE_URL, else the secret INLET_DATABASE_SECRET_ARN names: the function has no embedded database. */
  readonly database: { readonly url: string } | { readonly secret: DatabaseSecretSettings };
  readonly s3: S3Connection;
  readonly notifyTopicArn: string | undefined;
  /** INLET_LAMBDA_MAX_BYTES: objects above it (expansion-aware) are handed over; unset: the timeout decides. */
  readonly maxLambdaBytes: number | undefined;
  /** INLET_TASK_MAX_BYTES: what the task can spool; past it (and the Lambda limit) an object is rejected. */
  readonly taskMaxBytes: number | undefined;
  /** INLET_HANDOVER_CLUSTER and the rest: the Fargate task big objects go to; unset: no hand-over. */
  readonly handOver: EcsHandOverSettings | undefined;
}

export function lambdaSettings(env: Env = process.env): LambdaSettings {
  return {
    config: text(env, 'INLET_CONFIG') ?? DEFAULT_CONFIG_PATH,
    database: lambdaDatabase(env),
    s3: s3ConnectionFrom(env),
    notifyTopicArn: notifyTopicArnFrom(env),
    maxLambdaBytes: integer(env, 'INLET_LAMBDA_MAX_BYTES', { min: 1 }),
    taskMaxBytes: integer(env, 'INLET_TASK_MAX_BYTES', { min: 1 }),
    handOver: handOverFrom(env),
  };
}

function handOverFrom(env: Env): EcsHandOverSettings | undefined {
  const cluster = text(env, 'INLET_HANDOVER_CLUSTER');
  if (cluster === undefined) return undefined;
  const taskDefinition = text(env, 'INLET_HANDOVER_TASK_DEFINITION');
  const subnets = list(env, 'INLET_HANDOVER_SUBNETS');
  if (taskDefinition === undefined || subnets.length === 0) {
    throw new ConfigError(
      'invalid_setting',
      'INLET_HANDOVER_CLUSTER is set but INLET_HANDOVER_TASK_DEFINITION or INLET_HANDOVER_SUBNETS is not: the ' +
        'hand-over of big objects needs the task definition and the private subnets its task runs in (the CDK app sets them).',
    );
  }
  const region = text(env, 'AWS_REGION');
  const endpoint = text(env, 'INLET_ECS_ENDPOINT');
  return {
    cluster,
    taskDefinition,
    container: text(env, 'INLET_HANDOVER_CONTAINER') ?? 'inlet',
    subnets,
    securityGroups: list(env, 'INLET_HANDOVER_SECURITY_GROUPS'),
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
}

function list(env: Env, name: string): string[] {
  return (text(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function lambdaDatabase(env: Env): LambdaSettings['database'] {
  const { url, secret } = databaseFrom(env);
  if (url !== undefined) return { url };
  if (secret !== undefined) return { secret };
  throw new ConfigError(
    'no_database',
    'Neither DATABASE_URL nor INLET_DATABASE_SECRET_ARN is set: the function needs the PostgreSQL (RDS Proxy) ' +
      'connection string or the Secrets Manager secret holding its credentials.',
  );
}
