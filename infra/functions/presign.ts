/** A presigned S3 PUT URL, computed locally (no network call) with the function's own credentials. */
import type { AwsCredentials } from './aws-signing.js';
import { signer } from './aws-signing.js';

export interface PresignPutOptions {
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
  readonly expiresInSeconds: number;
  /** Stored as user metadata (x-amz-meta-*), signed into the URL: the client cannot change them. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly now?: Date;
}

/** RFC 3986 escaping of each path segment, as S3 expects in the canonical request. */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

export async function presignPut(options: PresignPutOptions): Promise<string> {
  const hostname = `${options.bucket}.s3.${options.region}.amazonaws.com`;
  const path = `/${encodeKey(options.key)}`;
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.metadata ?? {})) query[`x-amz-meta-${name}`] = value;
  const signed = await signer('s3', options.region, options.credentials).presign(
    {
      method: 'PUT',
      protocol: 'https:',
      hostname,
      path,
      query,
      headers: { host: hostname, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    { expiresIn: options.expiresInSeconds, ...(options.now ? { signingDate: options.now } : {}) },
  );
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(signed.query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) if (item !== null) search.append(name, item);
  }
  return `https://${hostname}${path}?${search.toString().replace(/\+/g, '%20')}`;
}
