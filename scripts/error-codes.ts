/**
 * docs/errors.md, and the error table of docs/http-api.md, from the catalogue in src/error-codes/:
 * `npx tsx scripts/error-codes.ts` prints the generated part of docs/errors.md, `--write` rewrites both
 * docs in place. test/unit/docs/errors.test.ts fails when a doc and the catalogue differ.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Door, type ErrorCodeInfo, errorCodeSections, errorCodes } from '../src/error-codes/index.js';
import { s3ErrorCodes } from '../src/gateway/s3-codes.js';
import { type SectionMarkers, withGeneratedSection } from './generated-section.js';
import { HTTP_API_DOC } from './openapi.js';

const WRITE_COMMAND = '`npx tsx scripts/error-codes.ts --write`';

export const CATALOGUE_MARKERS: SectionMarkers = {
  begin: `<!-- error codes: generated from src/error-codes/ by ${WRITE_COMMAND}; do not edit -->`,
  end: '<!-- end of error codes -->',
};

export const HTTP_ERRORS_MARKERS: SectionMarkers = {
  begin: `<!-- errors: generated from src/error-codes/ by ${WRITE_COMMAND}; do not edit -->`,
  end: '<!-- end of errors -->',
};

export const ERRORS_DOC = new URL('../docs/errors.md', import.meta.url);

const ALL_DOORS: readonly Door[] = ['cli', 'upload', 'gateway', 'lambda'];

/** A table cell: one line, and no `|` that would end it. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function doorsCell(doors: readonly Door[]): string {
  return ALL_DOORS.every((door) => doors.includes(door)) ? 'all' : doors.join(', ');
}

function codeRow(code: string, info: ErrorCodeInfo): string {
  const status = info.http === undefined ? '' : String(info.http);
  const meaning = info.reserved === undefined ? info.meaning : `${info.meaning} (Reserved: ${info.reserved})`;
  return `| \`${code}\` | ${status} | ${doorsCell(info.doors)} | ${cell(meaning)} | ${cell(info.action)} |`;
}

/** Every section of the catalogue as a heading, its intro and a table; then S3's codes and the renames. */
export function catalogueMarkdown(): string {
  const parts: string[] = [];
  for (const section of errorCodeSections) {
    parts.push(`## ${section.title}`, '', section.intro, '');
    parts.push('| code | HTTP | doors | what happened | what to do |', '|---|---|---|---|---|');
    for (const [code, info] of Object.entries(section.codes) as [string, ErrorCodeInfo][]) {
      parts.push(codeRow(code, info));
    }
    parts.push('');
  }
  parts.push(
    "### S3's codes (local S3 gateway)",
    '',
    "S3's protocol, answered in S3's XML error body with S3's status; in Inlet's logs as `s3_error`.",
    '',
    '| S3 code | status | when |',
    '|---|---|---|',
  );
  for (const [code, info] of Object.entries(s3ErrorCodes)) {
    parts.push(`| \`${code}\` | ${info.status} | ${cell(info.meaning)} |`);
  }
  parts.push('', '## Renamed codes', '', RENAMES_INTRO, '', '| was | now |', '|---|---|');
  for (const [code, info] of Object.entries(errorCodes) as [string, ErrorCodeInfo][]) {
    for (const old of info.formerly ?? []) parts.push(`| \`${old}\` | \`${code}\` |`);
  }
  return parts.join('\n');
}

const RENAMES_INTRO =
  'One casing for every code: these were spelled otherwise before. Database migration 008 renamed them in ' +
  "the rows already stored (inlet.ingestions and inlet.snapshot_runs' `error_code`), so the ledger, `inlet " +
  'ingestions` and `GET /v1/ingestions` show only the new names; a script that compared against an old name ' +
  'must use the new one.';

/** The upload API's codes by status, for docs/http-api.md. */
export function httpErrorTable(): string {
  const rows = (Object.entries(errorCodes) as [string, ErrorCodeInfo][])
    .filter(([, info]) => info.http !== undefined && info.doors.includes('upload'))
    .sort(([, a], [, b]) => (a.http ?? 0) - (b.http ?? 0));
  return [
    '| status | code | when |',
    '|---|---|---|',
    ...rows.map(([code, info]) => `| ${info.http} | \`${code}\` | ${cell(info.meaning)} |`),
  ].join('\n');
}

export function withCatalogue(markdown: string): string {
  return withGeneratedSection(markdown, CATALOGUE_MARKERS, catalogueMarkdown());
}

export function withHttpErrorTable(markdown: string): string {
  return withGeneratedSection(markdown, HTTP_ERRORS_MARKERS, httpErrorTable());
}

function isEntryModule(): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(path.resolve(entry)).href === import.meta.url;
}

if (isEntryModule()) {
  if (process.argv.includes('--write')) {
    await writeFile(ERRORS_DOC, withCatalogue(await readFile(ERRORS_DOC, 'utf8')));
    await writeFile(HTTP_API_DOC, withHttpErrorTable(await readFile(HTTP_API_DOC, 'utf8')));
  } else {
    process.stdout.write(`${catalogueMarkdown()}\n`);
  }
}
