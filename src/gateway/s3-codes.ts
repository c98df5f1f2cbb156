/**
 * The S3 error codes the local S3 gateway answers with. They are S3's protocol, not Inlet's codes:
 * SDKs turn them into typed exceptions (NoSuchKey, …) and S3 clients act on them, so the gateway
 * answers exactly as S3 does, with S3's status. Inlet's own codes are in src/error-codes/; in Inlet's
 * logs an S3 refusal carries the Inlet code `s3_error` beside the S3 code. docs/errors.md lists these.
 */
export interface S3ErrorCodeInfo {
  /** The HTTP status S3 answers with. */
  readonly status: number;
  /** When the gateway answers it. */
  readonly meaning: string;
}

export const s3ErrorCodes = {
  AccessDenied: { status: 403, meaning: 'The request is not signed, has expired, or is not valid yet.' },
  AuthorizationHeaderMalformed: {
    status: 400,
    meaning: 'The Authorization header is malformed (e.g. its credential scope).',
  },
  AuthorizationQueryParametersError: {
    status: 400,
    meaning: "The presigned URL's X-Amz-Expires is not valid.",
  },
  BadDigest: { status: 400, meaning: 'Content-MD5 or an x-amz-checksum does not match the body.' },
  BucketAlreadyOwnedByYou: { status: 409, meaning: 'The bucket to create exists already.' },
  BucketNotEmpty: { status: 409, meaning: 'The bucket to delete is not empty.' },
  EntityTooSmall: { status: 400, meaning: 'A multipart part other than the last is smaller than 5 MiB.' },
  IncompleteBody: {
    status: 400,
    meaning: 'The body is shorter than its Content-Length, or an aws-chunked body is malformed.',
  },
  InternalError: { status: 500, meaning: 'Something went wrong inside the gateway; its log says what.' },
  InvalidAccessKeyId: { status: 403, meaning: "The access key id is not the gateway's." },
  InvalidArgument: { status: 400, meaning: 'A parameter or header has a value S3 does not accept.' },
  InvalidBucketName: { status: 400, meaning: 'The bucket name is not a valid S3 bucket name.' },
  InvalidDigest: { status: 400, meaning: 'Content-MD5 is not valid base64 of 16 bytes.' },
  InvalidPart: {
    status: 400,
    meaning: 'A part to complete a multipart upload with was not uploaded, or its ETag differs.',
  },
  InvalidPartOrder: {
    status: 400,
    meaning: 'The parts to complete a multipart upload with are not in ascending order.',
  },
  InvalidRange: { status: 416, meaning: 'The Range is outside the object.' },
  InvalidRequest: {
    status: 400,
    meaning: 'The request is missing something S3 requires, or combines what it does not allow.',
  },
  InvalidURI: { status: 400, meaning: 'The path cannot be parsed.' },
  KeyTooLongError: { status: 400, meaning: 'The key is longer than 1024 bytes.' },
  MalformedXML: { status: 400, meaning: 'The XML body is not well-formed or not what the operation takes.' },
  MethodNotAllowed: { status: 405, meaning: 'The method is not allowed on this resource.' },
  NoSuchBucket: { status: 404, meaning: 'The bucket does not exist.' },
  NoSuchKey: { status: 404, meaning: 'The key does not exist.' },
  NoSuchUpload: {
    status: 404,
    meaning: 'The multipart upload does not exist (or was completed or aborted).',
  },
  NotImplemented: { status: 501, meaning: 'The gateway does not implement this operation or header.' },
  PreconditionFailed: {
    status: 412,
    meaning:
      'An If-Match or If-Unmodified-Since condition (for a copy source, also If-None-Match) does not hold.',
  },
  RequestTimeTooSkewed: { status: 403, meaning: "The request time is too far from the gateway's clock." },
  SignatureDoesNotMatch: {
    status: 403,
    meaning: 'The signature does not match: check the secret key and the signing.',
  },
  XAmzContentSHA256Mismatch: { status: 400, meaning: 'x-amz-content-sha256 does not match the body.' },
} as const satisfies Record<string, S3ErrorCodeInfo>;

export type S3ErrorCode = keyof typeof s3ErrorCodes;
