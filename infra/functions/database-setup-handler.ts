/**
 * The custom resource (through CDK's provider framework) that runs setUpDatabase on each deployment
 * whose properties change. It reads the three secrets (master, ingest, status) itself and connects to
 * the instance directly, with TLS verified against the RDS certificate authorities
 * (NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem). Deleting the resource changes nothing: the roles own
 * the ledger and the pipelines' tables, which outlive the stack with the database.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { type DatabaseSecret, readDatabaseSecret } from '../../src/db/secret.js';
import { createLogger } from '../../src/observability/logger.js';
import { type DatabaseLogin, setUpDatabase } from './database-setup.js';

/** What the Data stack passes (database-roles construct); CloudFormation sends every value as a string. */
export interface DatabaseSetupProperties {
  readonly DatabaseName: string;
  readonly MasterSecretArn: string;
  readonly IngestSecretArn: string;
  readonly StatusSecretArn: string;
}

export const PHYSICAL_RESOURCE_ID = 'inlet-database-roles';

export async function handler(
  event: CloudFormationCustomResourceEvent,
): Promise<{ PhysicalResourceId: string }> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const properties = event.ResourceProperties as unknown as DatabaseSetupProperties;
  const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  const [master, ingest, status] = await Promise.all(
    [properties.MasterSecretArn, properties.IngestSecretArn, properties.StatusSecretArn].map((arn) =>
      readDatabaseSecret(arn, client),
    ),
  );
  if (master === undefined || ingest === undefined || status === undefined) throw new Error('unreachable');
  const login = (secret: DatabaseSecret): DatabaseLogin => ({
    // Every secret is attached to the instance, so its host is the instance's address, not the proxy's.
    host: master.host,
    port: master.port,
    database: properties.DatabaseName,
    user: secret.username,
    password: secret.password,
    ssl: true,
  });
  await setUpDatabase({
    master: login(master),
    ingest: login(ingest),
    status: login(status),
    logger: createLogger({ component: 'database-setup' }),
  });
  return { PhysicalResourceId: PHYSICAL_RESOURCE_ID };
}
