/**
 * Database credentials from AWS Secrets Manager (INLET_DATABASE_SECRET_ARN), in the shape RDS writes for
 * the secrets it manages and rotates: `{"username", "password", "host", "port", "dbname", "engine"}`.
 * The password is read again when it is older than a minute, so a rotation is picked up by new
 * connections without a restart.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../errors.js';

export interface DatabaseSecret {
  username: string;
  password: string;
  host: string;
  port: number;
  dbname: string;
}

export interface SecretDatabase {
  /** The connection URL without the password (safe to log). */
  url: string;
  /** What node-postgres calls for each new connection. */
  password: () => Promise<string>;
}

const PASSWORD_TTL_MS = 60_000;

/** The SDK loads when a secret is first read: only AWS deployments use one, and it is slow to load. */
const secretsSdk = () => import('@aws-sdk/client-secrets-manager');

export async function readDatabaseSecret(arn: string, client: SecretsManagerClient): Promise<DatabaseSecret> {
  let text: string | undefined;
  try {
    const { GetSecretValueCommand } = await secretsSdk();
    text = (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
  } catch (error) {
    throw new ConfigError(
      'secret_unreadable',
      `Could not read the database secret ${arn} (INLET_DATABASE_SECRET_ARN): ${(error as Error).message}. ` +
        'Check that the role may call secretsmanager:GetSecretValue on it (and kms:Decrypt on its key).',
      { cause: error },
    );
  }
  return parseDatabaseSecret(arn, text);
}

export function parseDatabaseSecret(arn: string, text: string | undefined): DatabaseSecret {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text ?? '') as Record<string, unknown>;
  } catch {
    throw new ConfigError(
      'secret_malformed',
      `The database secret ${arn} is not JSON; it must hold username, password, host, port and dbname as RDS writes them.`,
    );
  }
  const missing = ['username', 'password', 'host'].filter(
    (key) => typeof value[key] !== 'string' || value[key] === '',
  );
  if (missing.length > 0) {
    throw new ConfigError(
      'secret_malformed',
      `The database secret ${arn} lacks ${missing.join(', ')}; it must hold username, password, host, port and dbname.`,
    );
  }
  const port = Number(value.port ?? 5432);
  return {
    username: value.username as string,
    password: value.password as string,
    host: value.host as string,
    port: Number.isInteger(port) && port > 0 ? port : 5432,
    dbname: typeof value.dbname === 'string' && value.dbname !== '' ? value.dbname : 'postgres',
  };
}

/**
 * The connection a secret describes. TLS is verified (`sslmode=verify-full`): on Lambda set
 * NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem, which holds the RDS certificate authorities.
 */
export async function databaseFromSecret(
  arn: string,
  options: {
    client?: SecretsManagerClient;
    /** `verify-full` (the default), `no-verify` or `disable` (INLET_DATABASE_SSLMODE). */
    sslmode?: string | undefined;
    /** Where to connect instead of the secret's host (INLET_DATABASE_HOST, the RDS Proxy). */
    host?: string | undefined;
    now?: () => number;
  } = {},
): Promise<SecretDatabase> {
  const client = options.client ?? new (await secretsSdk()).SecretsManagerClient({});
  const now = options.now ?? Date.now;
  let secret = await readDatabaseSecret(arn, client);
  let readAt = now();
  const url = new URL('postgres://placeholder');
  // RDS writes the instance's address into its secret; Lambda and the servers reach the database through
  // RDS Proxy, whose address `host` gives.
  url.hostname = options.host ?? secret.host;
  url.port = String(secret.port);
  url.username = encodeURIComponent(secret.username);
  url.pathname = `/${encodeURIComponent(secret.dbname)}`;
  url.searchParams.set('sslmode', options.sslmode ?? 'verify-full');
  return {
    url: url.toString(),
    password: async () => {
      if (now() - readAt > PASSWORD_TTL_MS) {
        secret = await readDatabaseSecret(arn, client);
        readAt = now();
      }
      return secret.password;
    },
  };
}
