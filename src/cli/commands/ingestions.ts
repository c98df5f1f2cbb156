import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { Action } from '../action.js';
import { isUndefinedTable, withDatabase } from '../database.js';
import { formatCount, formatDuration, shortId, truncateStart } from '../format.js';
import { databaseUrlOption, examples, jsonOption, parsePositiveInteger, pipelineOption } from '../options.js';
import { cliLogger, colourEnabled, type Paint, paint, print } from '../output.js';

interface IngestionsOptions {
  status?: string;
  pipeline?: string;
  limit: number;
  databaseUrl?: string;
  json?: boolean;
}

const STATUSES = ['queued', 'processing', 'loaded', 'duplicate', 'superseded', 'rejected', 'failed'];

export function registerIngestions(program: Command, action: Action): void {
  program
    .command('ingestions')
    .summary('list recent ingestions')
    .description('List recent ingestions from the ledger, newest first')
    .option('--status <status>', `only this status: ${STATUSES.join(', ')}`)
    .addOption(pipelineOption('only this pipeline'))
    .option('--limit <n>', 'how many to show', parsePositiveInteger, 20)
    .addOption(databaseUrlOption())
    .addOption(jsonOption())
    .addHelpText('after', examples('inlet ingestions', 'inlet ingestions --status rejected --limit 5 --json'))
    .action(action(runIngestions));
}

interface Row {
  id: string;
  pipeline: string;
  source_uri: string;
  status: string;
  rows_loaded: string;
  rows_rejected: string;
  bytes: string | null;
  received_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  error_code: string | null;
  error_message: string | null;
}

// The ORDER BY expression is the one the ingestions_recent index is built on.
const QUERY = `
  SELECT id, pipeline, source_uri, status, rows_loaded, rows_rejected, bytes,
         received_at, started_at, finished_at, error_code, error_message
    FROM inlet.ingestions
   WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR pipeline = $2)
   ORDER BY coalesce(finished_at, started_at, received_at) DESC, id
   LIMIT $3`;

async function runIngestions(options: IngestionsOptions): Promise<number> {
  if (options.status !== undefined && !STATUSES.includes(options.status)) {
    throw new UsageError(
      'invalid_argument',
      `unknown status "${options.status}"; expected one of: ${STATUSES.join(', ')}`,
    );
  }
  const rows = await withDatabase({ databaseUrl: options.databaseUrl, logger: cliLogger() }, async (db) => {
    try {
      const params = [options.status ?? null, options.pipeline ?? null, options.limit];
      return (await db.pool.query<Row>(QUERY, params)).rows;
    } catch (error) {
      // A database Inlet never wrote to has no ledger yet: that is an empty list, not an error.
      if (isUndefinedTable(error)) return [];
      throw error;
    }
  });
  if (options.json) {
    for (const row of rows) await print(JSON.stringify(toJson(row)));
  } else if (rows.length === 0) {
    await print('no ingestions yet');
  } else {
    for (const line of table(rows, paint(colourEnabled(process.stdout)))) await print(line);
  }
  return 0;
}

function durationMs(row: Row): number | null {
  return row.started_at && row.finished_at ? row.finished_at.getTime() - row.started_at.getTime() : null;
}

function toJson(row: Row): Record<string, unknown> {
  return {
    id: row.id,
    pipeline: row.pipeline,
    source: row.source_uri,
    status: row.status,
    rowsLoaded: Number(row.rows_loaded),
    rowsRejected: Number(row.rows_rejected),
    bytes: row.bytes === null ? null : Number(row.bytes),
    receivedAt: row.received_at?.toISOString() ?? null,
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    durationMs: durationMs(row),
    ...(row.error_code === null ? {} : { error: { code: row.error_code, message: row.error_message ?? '' } }),
  };
}

function table(rows: readonly Row[], colours: Paint): string[] {
  const header = ['ID', 'WHEN', 'PIPELINE', 'SOURCE', 'STATUS', 'ROWS', 'REJECTED', 'DURATION'];
  const cells = rows.map((row) => {
    const ms = durationMs(row);
    return [
      shortId(row.id),
      formatWhen(row.finished_at ?? row.started_at ?? row.received_at),
      row.pipeline,
      truncateStart(displaySource(row.source_uri), 40),
      row.status,
      formatCount(Number(row.rows_loaded)),
      formatCount(Number(row.rows_rejected)),
      ms === null ? '-' : formatDuration(ms),
    ];
  });
  const widths = header.map((title, i) =>
    Math.max(title.length, ...cells.map((row) => [...(row[i] ?? '')].length)),
  );
  // Counts and durations read best right-aligned; the status column is coloured after padding so
  // escape codes do not upset the alignment.
  const rightAligned = new Set([5, 6, 7]);
  const render = (row: string[], colour: (i: number, text: string) => string) =>
    row
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        const padded = rightAligned.has(i) ? cell.padStart(width) : cell.padEnd(width);
        return colour(i, padded);
      })
      .join('  ')
      .trimEnd();
  return [
    render(header, (_, text) => colours.bold(text)),
    ...cells.map((row) =>
      render(row, (i, text) => (i === 4 ? statusColour(colours, row[4] ?? '')(text) : text)),
    ),
  ];
}

function statusColour(colours: Paint, status: string): (text: string) => string {
  if (status === 'loaded') return colours.green;
  if (status === 'rejected' || status === 'failed') return colours.red;
  if (status === 'queued' || status === 'processing') return colours.yellow;
  return colours.dim;
}

/** Local files relative to here, as the user typed them; other URIs as they are. */
function displaySource(uri: string): string {
  if (!uri.startsWith('file://')) return uri;
  const path = relative(process.cwd(), fileURLToPath(uri));
  return path.startsWith('..') ? fileURLToPath(uri) : path;
}

function formatWhen(date: Date | null): string {
  if (date === null) return '-';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
