/**
 * The EBS provider as the settings describe it: the region they give (AWS_REGION, else AWS_DEFAULT_REGION),
 * else the instance's own (IMDSv2); credentials from the SDK's default chain (the instance role). Imported
 * on demand only.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import type { Logger } from '../../observability/logger.js';
import type { IntakeFreeze } from '../provider.js';
import { ImdsClient } from './imds.js';
import { EbsProvider } from './provider.js';

export async function openEbsProvider(options: {
  readonly region: string | undefined;
  /** The instance metadata endpoint; undefined: the standard one. */
  readonly metadataEndpoint: string | undefined;
  readonly volumeId: string | undefined;
  readonly logger?: Logger;
  readonly freeze?: IntakeFreeze;
}): Promise<EbsProvider> {
  const imds = new ImdsClient(
    options.metadataEndpoint === undefined ? {} : { endpoint: options.metadataEndpoint },
  );
  const region = options.region ?? (await imds.region());
  return new EbsProvider({
    client: new EC2Client({ region }),
    imds,
    ...(options.volumeId === undefined ? {} : { volumeId: options.volumeId }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.freeze === undefined ? {} : { freeze: options.freeze }),
  });
}
