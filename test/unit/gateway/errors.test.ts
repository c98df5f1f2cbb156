/** The gateway's errors carry S3's code and status for S3 clients, and Inlet's own code for Inlet. */
import { describe, expect, it } from 'vitest';
import { InletError } from '../../../src/errors.js';
import { S3Error, s3Errors } from '../../../src/gateway/errors.js';
import { s3ErrorCodes } from '../../../src/gateway/s3-codes.js';

describe('S3Error', () => {
  it("is an InletError coded s3_error, with S3's code and the status S3 uses for it", () => {
    const error = s3Errors.noSuchKey('orders/a.csv');
    expect(error).toBeInstanceOf(InletError);
    expect(error).toMatchObject({
      code: 's3_error',
      s3Code: 'NoSuchKey',
      status: 404,
      extra: { Key: 'orders/a.csv' },
    });
    expect(s3Errors.invalidRange(10)).toMatchObject({ s3Code: 'InvalidRange', status: 416 });
    expect(s3Errors.notImplemented('x')).toMatchObject({ s3Code: 'NotImplemented', status: 501 });
  });

  it('takes every status from the table of S3 codes', () => {
    for (const [s3Code, info] of Object.entries(s3ErrorCodes)) {
      expect(new S3Error(s3Code as keyof typeof s3ErrorCodes, 'x').status, s3Code).toBe(info.status);
    }
  });
});
