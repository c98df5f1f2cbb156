import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../errors.js';
import {
  type IngestionRow,
  type IngestionView,
  ingestionView,
  isLedgerStatus,
  LEDGER_STATUSES,
  listIngestions,
  shortIngestionId,
} from '../../ledger/read.js';
import { withDatabase } from '../database.js';
import {
  alignedTable,
  formatCount,
  formatDuration,
  formatWhen,
  printable,
  type TableColumn,
  truncateStart,
} from '../format.js';
import { cliLogger, colourEnabled, type Paint, paint, print } from '../output.js';

interface IngestionsOptions {
  status?: string;
  pipeline?: string;
  limit: number;
  databaseUrl?: string;
  json?: boolean;
}

export async function runIngestions(options: IngestionsOptions): Promise<number> {
  const filter = { status: options.status, pipeline: options.pipeline, limit: options.limit };
  // Checked before the database starts: a typo should not wait for it.
  if (filter.status !== undefined && !isLedgerStatus(filter.status)) {
    throw new UsageError(
      'invalid_argument',
      `unknown status "${filter.status}"; expected one of: ${LEDGER_STATUSES.join(', ')}`,
    );
  }
  const rows = await withDatabase({ databaseUrl: options.databaseUrl, logger: cliLogger() }, (db) =>
    listIngestions(db.pool, filter),
  );
  if (options.json) {
    for (const row of rows) await print(JSON.stringify(ingestionView(row)));
  } else if (rows.length === 0) {
    await print('no ingestions yet');
  } else {
    for (const line of table(rows, paint(colourEnabled(process.stdout)))) await print(line);
  }
  return 0;
}

function table(rows: readonly IngestionRow[], colours: Paint): string[] {
  const columns: TableColumn[] = [
    { title: 'ID' },
    { title: 'WHEN' },
    { title: 'PIPELINE' },
    { title: 'DOOR' },
    { title: 'SOURCE' },
    { title: 'STATUS' },
    { title: 'ROWS', align: 'right' },
    { title: 'REJECTED', align: 'right' },
    { title: 'DURATION', align: 'right' },
  ];
  const cells = rows.map((row) => {
    const view = ingestionView(row);
    const ms = view.durationMs;
    return [
      shortIngestionId(row.id),
      formatWhen(row.finished_at ?? row.started_at ?? row.received_at),
      printable(row.pipeline),
      doorLabel(view),
      truncateStart(printable(displaySource(row.source_uri)), 40),
      row.status,
      formatCount(Number(row.rows_loaded)),
      formatCount(Number(row.rows_rejected)),
      ms === null ? '-' : formatDuration(ms),
    ];
  });
  return alignedTable(columns, cells, (r, i, text) => {
    if (r === -1) return colours.bold(text);
    return i === 5 ? statusColour(colours, rows[r]?.status ?? '')(text) : text;
  });
}

function statusColour(colours: Paint, status: string): (text: string) => string {
  if (status === 'loaded') return colours.green;
  if (status === 'rejected' || status === 'failed') return colours.red;
  if (status === 'queued' || status === 'processing') return colours.yellow;
  return colours.dim;
}

/**
 * `http`, `s3`, `cli`, or `sftp:<user>`: the door the file came through and, for SFTP, who put it; then
 * `→task` (or `→child`, `→server`) when the door handed it over to be loaded elsewhere.
 */
function doorLabel({ door, sftpUser, handOver }: IngestionView): string {
  const ranOn = handOver?.ranOn;
  return `${sftpUser === undefined ? door : `${door}:${printable(sftpUser)}`}${ranOn === undefined ? '' : `→${printable(ranOn)}`}`;
}

/** Local files relative to here, as the user typed them; other URIs as they are. */
function displaySource(uri: string): string {
  if (!uri.startsWith('file://')) return uri;
  const path = relative(process.cwd(), fileURLToPath(uri));
  return path.startsWith('..') ? fileURLToPath(uri) : path;
}
