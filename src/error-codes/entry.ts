/**
 * The shape of one entry of Inlet's error-code catalogue (src/error-codes/index.ts). The catalogue is
 * data, not behaviour: it names every code Inlet writes to the ledger, answers over HTTP, prints in
 * the CLI's output or logs, and docs/errors.md is generated from it.
 */

/**
 * The front doors a file or a request comes in by: `cli` (`inlet …`), `upload` (the upload API of `inlet
 * serve` / `inlet dev`, its workers and its snapshot scheduler), `gateway` (the local S3 gateway of
 * `inlet dev`), `lambda` (the AWS deployment: the S3-event function and the presign/status API).
 */
export type Door = 'cli' | 'upload' | 'gateway' | 'lambda';

/** Every door that ingests files: a code about a file's content can come from any of them. */
export const INGESTING_DOORS = ['cli', 'upload', 'gateway', 'lambda'] as const satisfies readonly Door[];

export interface ErrorCodeInfo {
  /** What happened, in a sentence a user understands. */
  readonly meaning: string;
  /** What the person who sees the code should do about it. */
  readonly action: string;
  /** The HTTP status an Inlet API answers with this code; absent when the code never reaches an HTTP client. */
  readonly http?: number;
  /** The doors that can produce the code. */
  readonly doors: readonly Door[];
  /**
   * Set when nothing in src/ raises the code any more but it is kept, because rows in the ledger or
   * clients may still hold it: why. A test fails for a code that is neither used nor reserved.
   */
  readonly reserved?: string;
  /**
   * Names the code had before. Migration 008 renamed them in the rows already stored; clients that
   * compared against an old name must use the new one (docs/errors.md lists them).
   */
  readonly formerly?: readonly string[];
}

/** A titled group of codes: one section of docs/errors.md. */
export interface ErrorCodeSection<Codes extends Record<string, ErrorCodeInfo>> {
  readonly title: string;
  /** Where these codes show up, for the doc's section intro. */
  readonly intro: string;
  readonly codes: Codes;
}
