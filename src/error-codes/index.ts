/**
 * Inlet's error codes: one catalogue of every code Inlet puts in the ledger (`error_code`), in API
 * answers (`{"error": {"code"}}`), in the CLI's output and in its logs. Codes are lower snake_case and
 * stable: scripts compare against them. `ErrorCode` is derived from the catalogue, so a code that is
 * not in it does not compile; docs/errors.md is generated from it (`npx tsx scripts/error-codes.ts
 * --write`) and test/unit/error-codes.test.ts checks both ways against src/.
 *
 * The local S3 gateway answers S3 clients with S3's own codes: those are S3's protocol, kept apart in
 * src/gateway/s3-codes.ts.
 */
import { databaseCodes } from './database.js';
import type { ErrorCodeInfo } from './entry.js';
import { fileCodes } from './files.js';
import { gatewayCodes } from './gateway.js';
import { ingestionCodes } from './ingestion.js';
import { requestCodes } from './requests.js';
import { setupCodes } from './setup.js';
import { snapshotCodes } from './snapshots.js';
import { sourceCodes } from './sources.js';
import { tableCodes } from './tables.js';

export type { Door, ErrorCodeInfo } from './entry.js';

/** The catalogue's sections, in the order docs/errors.md shows them. */
export const errorCodeSections = [
  fileCodes,
  ingestionCodes,
  sourceCodes,
  databaseCodes,
  tableCodes,
  requestCodes,
  setupCodes,
  snapshotCodes,
  gatewayCodes,
] as const;

type Sections = (typeof errorCodeSections)[number];
type CodesOf<S> = S extends { readonly codes: infer C } ? C : never;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

/** Every code and what it means, keyed by code. */
export const errorCodes = Object.assign(
  {},
  ...errorCodeSections.map((section) => section.codes),
) as UnionToIntersection<CodesOf<Sections>>;

export type ErrorCode = keyof typeof errorCodes;

/** The codes an API answers with, and so a status for: `HttpError` takes only these. */
export type HttpErrorCode = {
  [C in ErrorCode]: (typeof errorCodes)[C] extends { readonly http: number } ? C : never;
}[ErrorCode];

/** What the ledger, an API answer and `--json` output carry for an error. */
export interface ErrorReport {
  readonly code: ErrorCode;
  readonly message: string;
}

export function errorCodeInfo(code: ErrorCode): ErrorCodeInfo {
  return errorCodes[code];
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorCodes, value);
}

/** The HTTP status the catalogue gives a code, or undefined for codes that never reach an HTTP client. */
export function httpStatusOfCode(code: ErrorCode): number | undefined {
  return errorCodeInfo(code).http;
}
