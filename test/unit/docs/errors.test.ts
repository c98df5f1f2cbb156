/**
 * docs/errors.md, and the error table of docs/http-api.md, are what the catalogue in src/error-codes/
 * gives (scripts/error-codes.ts), so a code added, renamed or given another status fails here until
 * `npx tsx scripts/error-codes.ts --write` is run; and every error status a route of the OpenAPI document
 * declares has its codes in the catalogue.
 */
import { describe, expect, it } from 'vitest';
import { catalogueMarkdown, withCatalogue, withHttpErrorTable } from '../../../scripts/error-codes.js';
import { openApiDocument, routeRows } from '../../../scripts/openapi.js';
import { type ErrorCodeInfo, errorCodes } from '../../../src/error-codes/index.js';
import { readDoc } from './markdown.js';

describe('docs/errors.md', () => {
  const doc = readDoc('docs/errors.md');

  it('holds the catalogue as src/error-codes/ gives it', () => {
    expect(withCatalogue(doc)).toBe(doc);
  });

  it('names every code, every S3 code and every former name', () => {
    for (const [code, info] of Object.entries(errorCodes) as [string, ErrorCodeInfo][]) {
      expect(doc).toContain(`| \`${code}\` |`);
      for (const old of info.formerly ?? []) expect(doc).toContain(`| \`${old}\` | \`${code}\` |`);
    }
    expect(doc).toContain('| `NoSuchKey` | 404 |');
  });

  it('notices a code missing from the page (the check bites)', () => {
    const withoutRow = doc
      .split('\n')
      .filter((line) => !line.startsWith('| `schema_drift` |'))
      .join('\n');
    expect(withCatalogue(withoutRow)).not.toBe(withoutRow);
    expect(catalogueMarkdown()).toContain('| `schema_drift` |');
  });
});

describe("docs/http-api.md's errors", () => {
  const doc = readDoc('docs/http-api.md');

  it('holds the upload API codes and statuses the catalogue gives', () => {
    expect(withHttpErrorTable(doc)).toBe(doc);
    expect(doc).toContain('| 409 | `idempotency_key_reused` |');
  });

  it('has codes for every error status a route declares', async () => {
    const declared = new Set(
      routeRows(await openApiDocument()).flatMap((row) =>
        row.statuses.filter((status) => Number(status) >= 400),
      ),
    );
    const withCodes = new Set(
      (Object.values(errorCodes) as ErrorCodeInfo[])
        .filter((info) => info.doors.includes('upload') && info.http !== undefined)
        .map((info) => String(info.http)),
    );
    expect([...declared].filter((status) => !withCodes.has(status))).toEqual([]);
  });
});
