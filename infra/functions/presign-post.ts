/**
 * A presigned S3 POST (browser-based upload, Signature Version 4), computed locally with the function's
 * own credentials. Unlike a presigned PUT URL, its policy bounds what the upload may be: exactly this key
 * in this bucket, a size within `content-length-range` (S3 refuses a bigger or empty body before storing
 * it), and the requester's name in the object's metadata, all signed: a client that changes any field
 * breaks the signature.
 */
import type { AwsCredentials } from './aws-signing.js';
import { signer } from './aws-signing.js';

export interface PresignPostOptions {
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
  readonly expiresInSeconds: number;
  /** The largest body S3 will take, in bytes; the smallest is 1. */
  readonly maxBytes: number;
  /** Stored as user metadata (x-amz-meta-*), fixed by the policy. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly now?: Date;
}

export interface PresignedPost {
  /** Where the client POSTs a multipart/form-data body: these fields first, then the `file` part. */
  readonly url: string;
  readonly fields: Readonly<Record<string, string>>;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

export async function presignPost(options: PresignPostOptions): Promise<PresignedPost> {
  const now = options.now ?? new Date();
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const { credentials } = options;
  const fields: Record<string, string> = {
    bucket: options.bucket,
    key: options.key,
    'X-Amz-Algorithm': ALGORITHM,
    'X-Amz-Credential': `${credentials.accessKeyId}/${date}/${options.region}/s3/aws4_request`,
    'X-Amz-Date': amzDate,
    ...(credentials.sessionToken ? { 'X-Amz-Security-Token': credentials.sessionToken } : {}),
  };
  for (const [name, value] of Object.entries(options.metadata ?? {})) fields[`x-amz-meta-${name}`] = value;
  const policy = {
    expiration: new Date(now.getTime() + options.expiresInSeconds * 1000).toISOString(),
    conditions: [
      ...Object.entries(fields).map(([name, value]) => ({ [name]: value })),
      ['content-length-range', 1, options.maxBytes],
    ],
  };
  const encodedPolicy = Buffer.from(JSON.stringify(policy)).toString('base64');
  // The policy is the string to sign, with the SigV4 key of that date, region and service.
  const signature = await signer('s3', options.region, credentials).sign(encodedPolicy, { signingDate: now });
  return {
    url: `https://${options.bucket}.s3.${options.region}.amazonaws.com/`,
    fields: { ...fields, Policy: encodedPolicy, 'X-Amz-Signature': signature },
  };
}
