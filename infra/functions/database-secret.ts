/**
 * The database credentials from Secrets Manager (GetSecretValue over HTTPS, SigV4-signed), cached for
 * the container's life and re-read after an authentication failure (the password was rotated).
 */
import { credentialsFromEnv, regionFromEnv, signer } from './aws-signing.js';

export interface DatabaseSecret {
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly dbname: string;
}

export async function readDatabaseSecret(
  secretId: string,
  fetchImpl: typeof fetch = fetch,
): Promise<DatabaseSecret> {
  const region = regionFromEnv();
  const hostname = `secretsmanager.${region}.amazonaws.com`;
  const body = JSON.stringify({ SecretId: secretId });
  const request = await signer('secretsmanager', region, credentialsFromEnv()).sign({
    method: 'POST',
    protocol: 'https:',
    hostname,
    path: '/',
    headers: {
      host: hostname,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'secretsmanager.GetSecretValue',
    },
    body,
  });
  const response = await fetchImpl(`https://${hostname}/`, {
    method: 'POST',
    headers: request.headers,
    body,
  });
  if (!response.ok) {
    // The body names the error type (AccessDeniedException, ResourceNotFoundException), never the secret.
    throw new Error(
      `GetSecretValue failed with HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`,
    );
  }
  const { SecretString } = (await response.json()) as { SecretString?: string };
  if (SecretString === undefined) throw new Error('the database secret has no SecretString');
  const secret = JSON.parse(SecretString) as Partial<DatabaseSecret>;
  if (!secret.username || !secret.password || !secret.host) {
    throw new Error('the database secret lacks username, password or host');
  }
  return {
    username: secret.username,
    password: secret.password,
    host: secret.host,
    port: Number(secret.port ?? 5432),
    dbname: secret.dbname ?? 'postgres',
  };
}
