import { InletError } from '../errors.js';

/**
 * An error the gateway answers with an S3-style XML body. `code` is S3's own error code (NoSuchKey,
 * SignatureDoesNotMatch, …) because SDKs map it to typed exceptions; `status` is the HTTP status S3 uses.
 */
export class S3Error extends InletError {
  readonly status: number;
  /** Extra elements S3 adds to some errors (e.g. Key, UploadId, BucketName). */
  readonly extra: Record<string, string>;

  constructor(
    code: string,
    status: number,
    message: string,
    options: { cause?: unknown; extra?: Record<string, string> } = {},
  ) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.status = status;
    this.extra = options.extra ?? {};
  }
}

export const s3Errors = {
  accessDenied: (message = 'Access Denied') => new S3Error('AccessDenied', 403, message),
  authorizationHeaderMalformed: (message: string) =>
    new S3Error('AuthorizationHeaderMalformed', 400, `The authorization header is malformed; ${message}`),
  authorizationQueryParametersError: (message: string) =>
    new S3Error('AuthorizationQueryParametersError', 400, message),
  badDigest: (message: string) => new S3Error('BadDigest', 400, message),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    new S3Error(
      'BucketAlreadyOwnedByYou',
      409,
      'Your previous request to create the named bucket succeeded and you already own it.',
      { extra: { BucketName: bucket } },
    ),
  bucketNotEmpty: (bucket: string) =>
    new S3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', {
      extra: { BucketName: bucket },
    }),
  entityTooSmall: () =>
    new S3Error(
      'EntityTooSmall',
      400,
      'Your proposed upload is smaller than the minimum allowed object size.',
    ),
  incompleteBody: (
    message = 'You did not provide the number of bytes specified by the Content-Length HTTP header',
  ) => new S3Error('IncompleteBody', 400, message),
  invalidAccessKeyId: () =>
    new S3Error(
      'InvalidAccessKeyId',
      403,
      'The AWS Access Key Id you provided does not exist in our records.',
    ),
  invalidArgument: (message: string) => new S3Error('InvalidArgument', 400, message),
  invalidBucketName: (bucket: string) =>
    new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', {
      extra: { BucketName: bucket },
    }),
  invalidDigest: () => new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified was invalid.'),
  invalidPart: () =>
    new S3Error(
      'InvalidPart',
      400,
      "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
    ),
  invalidPartOrder: () =>
    new S3Error(
      'InvalidPartOrder',
      400,
      'The list of parts was not in ascending order. Parts must be ordered by part number.',
    ),
  invalidRange: (size: number) =>
    new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', {
      extra: { ActualObjectSize: String(size) },
    }),
  invalidRequest: (message: string) => new S3Error('InvalidRequest', 400, message),
  keyTooLong: () => new S3Error('KeyTooLongError', 400, 'Your key is too long'),
  malformedXml: () =>
    new S3Error(
      'MalformedXML',
      400,
      'The XML you provided was not well-formed or did not validate against our published schema',
    ),
  methodNotAllowed: () =>
    new S3Error('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.'),
  noSuchBucket: (bucket: string) =>
    new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', {
      extra: { BucketName: bucket },
    }),
  noSuchKey: (key: string) =>
    new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { extra: { Key: key } }),
  noSuchUpload: (uploadId: string) =>
    new S3Error(
      'NoSuchUpload',
      404,
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { extra: { UploadId: uploadId } },
    ),
  notImplemented: (what: string) =>
    new S3Error(
      'NotImplemented',
      501,
      `A header or operation you provided implies functionality that is not implemented: ${what}`,
    ),
  contentSha256Mismatch: () =>
    new S3Error(
      'XAmzContentSHA256Mismatch',
      400,
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    ),
  signatureDoesNotMatch: () =>
    new S3Error(
      'SignatureDoesNotMatch',
      403,
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    ),
  requestTimeTooSkewed: () =>
    new S3Error(
      'RequestTimeTooSkewed',
      403,
      'The difference between the request time and the current time is too large.',
    ),
};
