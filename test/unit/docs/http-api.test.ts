/**
 * docs/http-api.md's route table is the one the OpenAPI document gives (scripts/openapi.ts), so a route
 * added, removed or given another status fails here until `npx tsx scripts/openapi.ts --write` is run.
 */
import { describe, expect, it } from 'vitest';
import {
  type OpenApiDocument,
  openApiDocument,
  routeRows,
  routeTable,
  withRouteTable,
} from '../../../scripts/openapi.js';
import { readDoc } from './markdown.js';

describe('docs/http-api.md', () => {
  let document: OpenApiDocument;
  const doc = readDoc('docs/http-api.md');

  it('builds the OpenAPI document the service serves', async () => {
    document = await openApiDocument();
    expect(document.openapi).toBe('3.1.0');
    expect(routeRows(document).map((row) => `${row.method} ${row.path}`)).toContain('POST /v1/files');
  });

  it('holds the route table generated from the document', () => {
    expect(withRouteTable(doc, routeTable(document))).toBe(doc);
  });

  it('names every route of the document', () => {
    for (const row of routeRows(document)) expect(doc).toContain(`\`${row.method} ${row.path}\``);
  });

  it('notices a route missing from the table (the check bites)', () => {
    const withoutRow = doc
      .split('\n')
      .filter((line) => !line.startsWith('| `GET /v1/stats`'))
      .join('\n');
    expect(withRouteTable(withoutRow, routeTable(document))).not.toBe(withoutRow);
  });
});
