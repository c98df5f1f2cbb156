/** The upload API answers an error with the status the catalogue gives its code, wherever it is raised. */
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../../src/errors.js';
import { HttpError, httpStatusOf } from '../../../src/server/http-error.js';
import { SpoolError } from '../../../src/server/spool.js';

describe('httpStatusOf', () => {
  it("takes an HttpError's status from its code", () => {
    const error = new HttpError('idempotency_key_reused', 'used before', { headers: { 'retry-after': '1' } });
    expect(error.status).toBe(409);
    expect(httpStatusOf(error)).toBe(409);
    expect(error.headers).toEqual({ 'retry-after': '1' });
  });

  it("gives any Inlet error its code's status, and 500 to a code no API answers", () => {
    expect(httpStatusOf(new SpoolError('spool_full', 'full'))).toBe(503);
    expect(httpStatusOf(new SpoolError('too_large', 'big'))).toBe(413);
    expect(httpStatusOf(new SpoolError('body_failed', 'cut'))).toBe(400);
    expect(httpStatusOf(new SpoolError('bad_entry', 'odd'))).toBe(500);
    expect(httpStatusOf(new FormatError('schema_drift', 'drift'))).toBe(500);
  });

  it("keeps a framework error's own status, and answers anything else 500", () => {
    expect(httpStatusOf(Object.assign(new Error('too big'), { statusCode: 413 }))).toBe(413);
    expect(httpStatusOf(Object.assign(new Error('odd'), { statusCode: 200 }))).toBe(500);
    expect(httpStatusOf(new Error('bug'))).toBe(500);
  });
});
