/**
 * The config `inlet ingest` runs with: a local file, or an `s3://` object — the ECS hand-over task is given
 * its config as the CDK asset's S3 URI (INLET_CONFIG), as the Lambda function is, and has no local copy.
 */
import { loadConfig, parseConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { InletConfig } from '../model/contract.js';
import type { ObjectStore } from '../storage/object-store.js';
import { openStore, readObjectText } from '../storage/open-store.js';
import { s3Connection } from './settings.js';

export async function loadIngestConfig(
  named: string | undefined,
  s3Store?: () => ObjectStore,
): Promise<InletConfig> {
  if (named === undefined || !named.startsWith('s3://')) return loadConfig(named);
  // Loaded for an s3:// config only: the S3 SDK is slow to load.
  let s3 = s3Store;
  if (s3 === undefined) {
    const { S3ObjectStore } = await import('../storage/s3-store.js');
    s3 = () => new S3ObjectStore(s3Connection());
  }
  const object = openStore(named, { s3 });
  let text: string;
  try {
    text = await readObjectText(object);
  } catch (error) {
    throw new ConfigError(
      'invalid_config',
      `${named}: the config could not be read (${(error as Error).message}); check the URI and that this role may read it`,
      { cause: error },
    );
  }
  return parseConfig(text, named);
}
