/**
 * The Lambda's settings from the environment (docs/environment.md; the CDK app sets them), read once per
 * container. The one file of src/serverless that reads process.env.
 */
import { DEFAULT_CONFIG_PATH } from '../config/default-path.js';
import { ConfigError } from '../errors.js';
import { type DatabaseSecretSettings, databaseFrom } from '../settings/database.js';
import { type Env, text } from '../settings/env.js';
import { notifyTopicArnFrom } from '../settings/notify.js';
import { type S3Connection, s3ConnectionFrom } from '../settings/s3.js';

export interface LambdaSettings {
  /** INLET_CONFIG: a file in the bundle or an `s3://` URI; default `inlet.config.yaml`. */
  readonly config: string;
  /** DATABASE_URL, else the secret INLET_DATABASE_SECRET_ARN names: the function has no embedded database. */
  readonly database: { readonly url: string } | { readonly secret: DatabaseSecretSettings };
  readonly s3: S3Connection;
  readonly notifyTopicArn: string | undefined;
}

export function lambdaSettings(env: Env = process.env): LambdaSettings {
  return {
    config: text(env, 'INLET_CONFIG') ?? DEFAULT_CONFIG_PATH,
    database: lambdaDatabase(env),
    s3: s3ConnectionFrom(env),
    notifyTopicArn: notifyTopicArnFrom(env),
  };
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
