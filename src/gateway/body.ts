import type { Readable } from 'node:stream';
import type { AuthResult } from './auth.js';
import type { WriteOptions } from './bucket-store.js';
import {
  type BodyDigests,
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  DigestingStream,
  isChecksumAlgorithm,
} from './checksums.js';
import { AwsChunkedDecoder } from './chunked.js';
import { s3Errors } from './errors.js';
import { header, type S3Request } from './request.js';

const NAMES: Record<ChecksumAlgorithm, string> = {
  crc32: 'CRC32',
  crc32c: 'CRC32C',
  crc64nvme: 'CRC64NVME',
  sha1: 'SHA1',
  sha256: 'SHA256',
};

export function checksumName(algorithm: ChecksumAlgorithm): string {
  return NAMES[algorithm];
}

/**
 * The request body as the bytes the client meant (aws-chunked framing removed), plus the checks S3 makes on it
 * once it has been read: Content-MD5, `x-amz-checksum-*` headers or trailers, and a signed payload hash.
 */
export function requestBody(
  ctx: S3Request,
  auth: AuthResult,
  { headerChecksums = true }: { headerChecksums?: boolean } = {},
): { stream: Readable; options: WriteOptions } {
  const { req } = ctx;
  const payloadHash = auth.payloadHash;
  const encoding = header(req, 'content-encoding') ?? '';
  const chunked =
    payloadHash.startsWith('STREAMING-') || encoding.split(',').some((e) => e.trim() === 'aws-chunked');
  let stream: Readable = req;
  let decoder: AwsChunkedDecoder | undefined;
  if (chunked) {
    const decodedLength = header(req, 'x-amz-decoded-content-length');
    const signedChunks = payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
    decoder = new AwsChunkedDecoder({
      ...(signedChunks ? { verifier: auth.chunkVerifier() } : {}),
      ...(decodedLength === undefined ? {} : { decodedContentLength: Number(decodedLength) }),
    });
    stream = req.pipe(decoder);
    req.on('error', (err) => decoder?.destroy(err));
  } else if (payloadHash.startsWith('STREAMING-')) {
    throw s3Errors.invalidRequest(`Unsupported x-amz-content-sha256 value ${payloadHash}`);
  }

  const fromHeaders = new Map<ChecksumAlgorithm, string>();
  for (const algorithm of headerChecksums ? CHECKSUM_ALGORITHMS : []) {
    const value = header(req, `x-amz-checksum-${algorithm}`);
    if (value !== undefined) fromHeaders.set(algorithm, value);
  }
  const trailerNames = (header(req, 'x-amz-trailer') ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
  const fromTrailer = new Set<ChecksumAlgorithm>();
  for (const name of trailerNames) {
    const algorithm = name.replace(/^x-amz-checksum-/, '');
    if (isChecksumAlgorithm(algorithm)) fromTrailer.add(algorithm);
  }
  const announced = (
    header(req, 'x-amz-sdk-checksum-algorithm') ?? header(req, 'x-amz-checksum-algorithm')
  )?.toLowerCase();
  const algorithms = new Set<ChecksumAlgorithm>([...fromHeaders.keys(), ...fromTrailer]);
  if (announced !== undefined && isChecksumAlgorithm(announced)) algorithms.add(announced);

  const contentMd5 = header(req, 'content-md5');
  if (contentMd5 !== undefined && Buffer.from(contentMd5, 'base64').length !== 16)
    throw s3Errors.invalidDigest();
  const signedHash = /^[0-9a-f]{64}$/.test(payloadHash) ? payloadHash : undefined;

  const verify = (digests: BodyDigests): Partial<Record<ChecksumAlgorithm, string>> => {
    if (signedHash !== undefined && digests.sha256Hex !== signedHash) throw s3Errors.contentSha256Mismatch();
    if (contentMd5 !== undefined && contentMd5 !== digests.md5Base64) {
      throw s3Errors.badDigest('The Content-MD5 you specified did not match what we received.');
    }
    const expected = new Map(fromHeaders);
    for (const algorithm of fromTrailer) {
      const value = decoder?.trailers.get(`x-amz-checksum-${algorithm}`);
      if (value === undefined) {
        throw s3Errors.invalidRequest(`x-amz-checksum-${algorithm} was announced as a trailer but not sent`);
      }
      expected.set(algorithm, value);
    }
    for (const [algorithm, value] of expected) {
      if (digests.checksums[algorithm] !== value) {
        throw s3Errors.badDigest(
          `The ${NAMES[algorithm]} you specified did not match the calculated checksum.`,
        );
      }
    }
    return digests.checksums;
  };
  return { stream, options: { algorithms: [...algorithms], sha256: signedHash !== undefined, verify } };
}

/** Reads a small XML request body (DeleteObjects, CompleteMultipartUpload, Tagging) with the same digest checks. */
export async function readSmallBody(
  ctx: S3Request,
  auth: AuthResult,
  options: { limit?: number; headerChecksums?: boolean } = {},
): Promise<string> {
  const limit = options.limit ?? 2 * 1024 * 1024;
  const body = requestBody(ctx, auth, options);
  const digester = new DigestingStream({
    algorithms: body.options.algorithms,
    sha256Hex: body.options.sha256,
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body.stream.pipe(digester) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw s3Errors.malformedXml();
    chunks.push(chunk);
  }
  body.options.verify(digester.digestsResult);
  return Buffer.concat(chunks).toString('utf8');
}
