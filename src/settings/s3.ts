/**
 * How every `s3://` client connects, the same in the Lambda, the CLI and `inlet dev` (docs/environment.md):
 * - `INLET_S3_ENDPOINT`: an S3-compatible endpoint; setting it also turns on path-style addressing, which
 *   local and self-hosted stores need (no per-bucket DNS names);
 * - `INLET_S3_ACCESS_KEY_ID` and `INLET_S3_SECRET_ACCESS_KEY`: both or neither; neither = the SDK's default
 *   chain (the Lambda or instance role on AWS);
 * - `AWS_REGION`: unset = `us-east-1` (S3ObjectStore's default).
 * The result is the connection part of S3ObjectStoreOptions.
 */
import { ConfigError } from '../errors.js';
import { type Env, httpUrl, text } from './env.js';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface S3Connection {
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  readonly region?: string;
  readonly credentials?: S3Credentials;
}

export function s3ConnectionFrom(env: Env): S3Connection {
  const endpoint = httpUrl(env, 'INLET_S3_ENDPOINT');
  const region = text(env, 'AWS_REGION');
  const credentials = s3Credentials(env);
  return {
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
    ...(region === undefined ? {} : { region }),
    ...(credentials === undefined ? {} : { credentials }),
  };
}

/** INLET_S3_ACCESS_KEY_ID and INLET_S3_SECRET_ACCESS_KEY, both or neither. */
function s3Credentials(env: Env): S3Credentials | undefined {
  const accessKeyId = text(env, 'INLET_S3_ACCESS_KEY_ID');
  const secretAccessKey = text(env, 'INLET_S3_SECRET_ACCESS_KEY');
  if (accessKeyId !== undefined && secretAccessKey !== undefined) return { accessKeyId, secretAccessKey };
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  const [set, missing] =
    accessKeyId === undefined
      ? ['INLET_S3_SECRET_ACCESS_KEY', 'INLET_S3_ACCESS_KEY_ID']
      : ['INLET_S3_ACCESS_KEY_ID', 'INLET_S3_SECRET_ACCESS_KEY'];
  throw new ConfigError(
    'invalid_setting',
    `${missing} must be set too: set both INLET_S3_ACCESS_KEY_ID and INLET_S3_SECRET_ACCESS_KEY, or neither ` +
      `to use the default AWS credentials (only ${set} is set).`,
  );
}
