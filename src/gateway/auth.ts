import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { getCanonicalHeaders, getSigningKey, SignatureV4 } from '@smithy/signature-v4';
import type { ChunkSignatureVerifier } from './chunked.js';
import { s3Errors } from './errors.js';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What a verified request told us about how its body is signed. */
export interface AuthResult {
  /** The `x-amz-content-sha256` value: a hex digest, UNSIGNED-PAYLOAD or a STREAMING-… mode. */
  payloadHash: string;
  /** For STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER): checks each chunk's chained signature. */
  chunkVerifier(): ChunkSignatureVerifier;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;
/** S3 refuses presigned URLs valid for longer than seven days. */
const MAX_PRESIGNED_EXPIRES_S = 7 * 24 * 60 * 60;
const EMPTY_SHA256 = createHash('sha256').digest('hex');

/**
 * Exposes the canonical-request and string-to-sign steps of the SDK's own signer, so the gateway recomputes a
 * signature exactly as clients compute it. S3 signs the path as sent (no second escaping), hence uriEscapePath off.
 */
class SignatureRecomputer extends SignatureV4 {
  constructor(credentials: Credentials) {
    super({ credentials, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
  }

  async stringToSign(
    request: {
      method: string;
      path: string;
      query: Record<string, string | string[]>;
      headers: Record<string, string>;
    },
    payloadHash: string,
    longDate: string,
    scope: string,
  ): Promise<string> {
    const httpRequest = { ...request, protocol: 'http:', hostname: '', body: undefined };
    // Every header the client listed counts, including ones the SDK would never sign itself.
    const canonicalHeaders = getCanonicalHeaders(
      httpRequest,
      undefined,
      new Set(Object.keys(request.headers)),
    );
    const canonical = this.createCanonicalRequest(httpRequest, canonicalHeaders, payloadHash);
    return this.createStringToSign(longDate, scope, canonical, ALGORITHM);
  }
}

interface SignatureParts {
  accessKeyId: string;
  shortDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  longDate: string;
}

function parseCredential(
  credential: string,
): Omit<SignatureParts, 'signedHeaders' | 'signature' | 'longDate'> {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') {
    throw s3Errors.invalidArgument(
      'Invalid credential scope in the Authorization header or X-Amz-Credential',
    );
  }
  const [accessKeyId = '', shortDate = '', region = '', service = ''] = parts;
  return { accessKeyId, shortDate, region, service };
}

function parseAuthorizationHeader(header: string, longDate: string | undefined): SignatureParts {
  if (!header.startsWith(`${ALGORITHM} `)) {
    throw s3Errors.invalidArgument('Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is supported');
  }
  const fields = new Map<string, string>();
  for (const item of header.slice(ALGORITHM.length + 1).split(',')) {
    const eq = item.indexOf('=');
    if (eq > 0) fields.set(item.slice(0, eq).trim(), item.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (
    credential === undefined ||
    signedHeaders === undefined ||
    signature === undefined ||
    longDate === undefined
  ) {
    throw s3Errors.invalidArgument('The Authorization header is malformed');
  }
  return { ...parseCredential(credential), signedHeaders: signedHeaders.split(';'), signature, longDate };
}

function parseAmzDate(longDate: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(longDate);
  if (m === null)
    throw s3Errors.accessDenied('AWS authentication requires a valid Date or x-amz-date header');
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/**
 * What S3 checks of a presigned URL's time window, before its signature: a whole number of seconds up to
 * seven days, a credential scope of the signing day, a signing time not in the future (beyond the clock
 * skew S3 allows), and not expired. Without the first two a URL could be made to live for a century.
 */
function checkPresignedWindow(expiresText: string, parts: SignatureParts, now: Date): void {
  if (!/^\d{1,10}$/.test(expiresText)) {
    throw s3Errors.authorizationQueryParametersError('X-Amz-Expires should be a number');
  }
  const expires = Number(expiresText);
  if (expires > MAX_PRESIGNED_EXPIRES_S) {
    throw s3Errors.authorizationQueryParametersError(
      `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_S}`,
    );
  }
  const signedAt = parseAmzDate(parts.longDate).getTime();
  if (!parts.longDate.startsWith(parts.shortDate)) {
    throw s3Errors.authorizationQueryParametersError(
      'Invalid credential date. Date is not the same as X-Amz-Date.',
    );
  }
  if (signedAt - now.getTime() > MAX_SKEW_MS) throw s3Errors.accessDenied('Request is not valid yet');
  if (now.getTime() > signedAt + expires * 1000) throw s3Errors.accessDenied('Request has expired');
}

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function hmacHex(key: Uint8Array, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

export class RequestAuthenticator {
  private readonly recomputer: SignatureRecomputer;

  constructor(private readonly credentials: Credentials) {
    this.recomputer = new SignatureRecomputer(credentials);
  }

  /**
   * Verifies a header-signed or presigned request. `path` is the raw request path and `query` the decoded query,
   * both exactly as received, because the client signed those and not a normalised form.
   */
  async verify(
    req: IncomingMessage,
    path: string,
    query: Record<string, string | string[]>,
    now = new Date(),
  ): Promise<AuthResult> {
    const header = req.headers.authorization;
    const presigned = typeof query['X-Amz-Signature'] === 'string';
    let parts: SignatureParts;
    let payloadHash: string;
    if (header !== undefined) {
      const amzDate = req.headers['x-amz-date'];
      parts = parseAuthorizationHeader(header, typeof amzDate === 'string' ? amzDate : undefined);
      const sent = req.headers['x-amz-content-sha256'];
      if (typeof sent !== 'string') {
        throw s3Errors.invalidRequest('Missing required header for this request: x-amz-content-sha256');
      }
      payloadHash = sent;
      const signedAt = parseAmzDate(parts.longDate).getTime();
      if (!parts.longDate.startsWith(parts.shortDate)) {
        throw s3Errors.authorizationHeaderMalformed(
          'Invalid credential date. Date is not the same as X-Amz-Date.',
        );
      }
      if (Math.abs(now.getTime() - signedAt) > MAX_SKEW_MS) throw s3Errors.requestTimeTooSkewed();
    } else if (presigned) {
      const q = (name: string) => {
        const value = query[name];
        if (typeof value !== 'string')
          throw s3Errors.accessDenied(`Query-string authentication requires ${name}`);
        return value;
      };
      if (q('X-Amz-Algorithm') !== ALGORITHM) throw s3Errors.invalidArgument('Unsupported X-Amz-Algorithm');
      parts = {
        ...parseCredential(q('X-Amz-Credential')),
        signedHeaders: q('X-Amz-SignedHeaders').split(';'),
        signature: q('X-Amz-Signature'),
        longDate: q('X-Amz-Date'),
      };
      checkPresignedWindow(q('X-Amz-Expires'), parts, now);
      // S3 presigned URLs never sign the body; the JS SDK also hoists that choice into the query.
      const hoisted = Object.entries(query).find(
        ([name]) => name.toLowerCase() === 'x-amz-content-sha256',
      )?.[1];
      payloadHash = typeof hoisted === 'string' ? hoisted : 'UNSIGNED-PAYLOAD';
    } else {
      throw s3Errors.accessDenied();
    }

    if (parts.accessKeyId !== this.credentials.accessKeyId) throw s3Errors.invalidAccessKeyId();
    const headers: Record<string, string> = {};
    for (const name of parts.signedHeaders) {
      const value = req.headers[name];
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const scope = `${parts.shortDate}/${parts.region}/${parts.service}/aws4_request`;
    const stringToSign = await this.recomputer.stringToSign(
      { method: req.method ?? 'GET', path, query, headers },
      payloadHash,
      parts.longDate,
      scope,
    );
    const signingKey = await getSigningKey(
      Sha256,
      this.credentials,
      parts.shortDate,
      parts.region,
      parts.service,
    );
    if (!sameHex(hmacHex(signingKey, stringToSign), parts.signature)) throw s3Errors.signatureDoesNotMatch();

    const seed = parts.signature;
    const longDate = parts.longDate;
    return {
      payloadHash,
      chunkVerifier: () => {
        let previous = seed;
        return {
          chunk(signature, chunkSha256Hex) {
            const sts = [
              `${ALGORITHM}-PAYLOAD`,
              longDate,
              scope,
              previous,
              EMPTY_SHA256,
              chunkSha256Hex,
            ].join('\n');
            const ok = sameHex(hmacHex(signingKey, sts), signature);
            previous = signature;
            return ok;
          },
          trailer(signature, canonicalTrailer) {
            const digest = createHash('sha256').update(canonicalTrailer).digest('hex');
            const sts = [`${ALGORITHM}-TRAILER`, longDate, scope, previous, digest].join('\n');
            return sameHex(hmacHex(signingKey, sts), signature);
          },
        };
      },
    };
  }
}
