import { InletError } from '../errors.js';
import { type S3ErrorCode, s3ErrorCodes } from './s3-codes.js';

/**
 * An error the gateway answers with an S3-style XML body. `s3Code` is S3's own error code (NoSuchKey,
 * SignatureDoesNotMatch, …), because SDKs map it to typed exceptions, and `status` the HTTP status S3
 * uses for it (src/gateway/s3-codes.ts). As an InletError its `code` is Inlet's `s3_error`: S3's codes are
 * S3's protocol, not Inlet's catalogue.
 */
export class S3Error extends InletError {
  readonly s3Code: S3ErrorCode;
  readonly status: number;
  /** Extra elements S3 adds to some errors (e.g. Key, UploadId, BucketName). */
  readonly extra: Record<string, string>;

  constructor(
    s3Code: S3ErrorCode,
    message: string,
    options: { cause?: unknown; extra?: Record<string, string> } = {},
  ) {
    super('s3_error', message, options.cause === undefined ? {} : { cause: options.cause });
    this.s3Code = s3Code;
    this.status = s3ErrorCodes[s3Code].status;
    this.extra = options.extra ?? {};
  }
}

export const s3Errors = {
  accessDenied: (message = 'Access Denied') => new S3Error('AccessDenied', message),
  authorizationHeaderMalformed: (message: string) =>
    new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${message}`),
  authorizationQueryParametersError: (message: string) =>
    new S3Error('AuthorizationQueryParametersError', message),
  badDigest: (message: string) => new S3Error('BadDigest', message),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    new S3Error(
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      { extra: { BucketName: bucket } },
    ),
  bucketNotEmpty: (bucket: string) =>
    new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', {
      extra: { BucketName: bucket },
    }),
  entityTooSmall: () =>
    new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.'),
  incompleteBody: (
    message = 'You did not provide the number of bytes specified by the Content-Length HTTP header',
  ) => new S3Error('IncompleteBody', message),
  invalidAccessKeyId: () =>
    new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'),
  invalidArgument: (message: string) => new S3Error('InvalidArgument', message),
  invalidBucketName: (bucket: string) =>
    new S3Error('InvalidBucketName', 'The specified bucket is not valid.', {
      extra: { BucketName: bucket },
    }),
  invalidDigest: () => new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.'),
  invalidPart: () =>
    new S3Error(
      'InvalidPart',
      "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
    ),
  invalidPartOrder: () =>
    new S3Error(
      'InvalidPartOrder',
      'The list of parts was not in ascending order. Parts must be ordered by part number.',
    ),
  invalidRange: (size: number) =>
    new S3Error('InvalidRange', 'The requested range is not satisfiable', {
      extra: { ActualObjectSize: String(size) },
    }),
  invalidRequest: (message: string) => new S3Error('InvalidRequest', message),
  keyTooLong: () => new S3Error('KeyTooLongError', 'Your key is too long'),
  malformedXml: () =>
    new S3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    ),
  methodNotAllowed: () =>
    new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.'),
  noSuchBucket: (bucket: string) =>
    new S3Error('NoSuchBucket', 'The specified bucket does not exist', {
      extra: { BucketName: bucket },
    }),
  noSuchKey: (key: string) =>
    new S3Error('NoSuchKey', 'The specified key does not exist.', { extra: { Key: key } }),
  noSuchUpload: (uploadId: string) =>
    new S3Error(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { extra: { UploadId: uploadId } },
    ),
  notImplemented: (what: string) =>
    new S3Error(
      'NotImplemented',
      `A header or operation you provided implies functionality that is not implemented: ${what}`,
    ),
  contentSha256Mismatch: () =>
    new S3Error(
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    ),
  signatureDoesNotMatch: () =>
    new S3Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    ),
  requestTimeTooSkewed: () =>
    new S3Error(
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    ),
};
