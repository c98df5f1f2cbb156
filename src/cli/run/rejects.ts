import { csvRow } from '../../ledger/csv-export.js';
import {
  eachReject,
  REJECT_CSV_HEADER,
  rejectCsvLine,
  rejectView,
  resolveIngestionId,
  shortIngestionId,
} from '../../ledger/read.js';
import { withDatabase } from '../database.js';
import { alignedTable, formatCount, printable, type TableColumn, truncateEnd } from '../format.js';
import { cliLogger, colourEnabled, note, type Paint, paint, print, write } from '../output.js';

interface RejectsOptions {
  format?: 'csv' | 'json';
  limit?: number;
  databaseUrl?: string;
}

type RejectView = ReturnType<typeof rejectView>;

/** Rows a terminal table shows without --limit; the rest is for --format csv: a screenful or two. */
const TABLE_ROWS = 200;

export async function runRejects(idArgument: string, options: RejectsOptions): Promise<number> {
  // Scripts and pipes get CSV, as documented; a person at a terminal gets a table.
  const format = options.format ?? (process.stdout.isTTY === true ? 'table' : 'csv');
  await withDatabase({ databaseUrl: options.databaseUrl, logger: cliLogger() }, async (db) => {
    const id = await resolveIngestionId(db.pool, idArgument);
    if (format === 'table') {
      const limit = options.limit ?? TABLE_ROWS;
      const rows: RejectView[] = [];
      await eachReject(db.pool, id, limit + 1, (row) => {
        rows.push(rejectView(row));
      });
      const shown = rows.slice(0, limit);
      const lines = rejectsTable(shown, {
        width: process.stdout.columns ?? 120,
        colours: paint(colourEnabled(process.stdout)),
      });
      for (const line of lines) await print(line);
      if (rows.length > limit && options.limit === undefined) {
        note(
          `The first ${formatCount(limit)} rows; all of them: inlet rejects ${shortIngestionId(id)} --format csv`,
        );
      }
      return;
    }
    if (format === 'csv') await write(csvRow(REJECT_CSV_HEADER));
    await eachReject(db.pool, id, options.limit ?? null, async (row) => {
      const view = rejectView(row);
      if (format === 'csv') {
        await write(rejectCsvLine(view));
      } else {
        await print(JSON.stringify(view));
      }
    });
  });
  return 0;
}

/**
 * Rejects for a person: aligned columns, control characters made visible, the raw value and the
 * reason cut to fit the terminal's width (the CSV and JSON formats carry them whole).
 */
export function rejectsTable(
  rows: readonly RejectView[],
  options: { width: number; colours: Paint },
): string[] {
  if (rows.length === 0) return ['no rejected rows'];
  const columns: TableColumn[] = [
    { title: 'LINE', align: 'right' },
    { title: 'RECORD', align: 'right' },
    { title: 'COLUMN' },
    { title: 'VALUE' },
    { title: 'REASON' },
  ];
  const number = (n: number | null) => (n === null ? '-' : String(n));
  const column = (row: RejectView) => truncateEnd(printable(row.column ?? '-'), 24);
  const value = (row: RejectView) => truncateEnd(row.value === null ? '-' : printable(row.value), 32);
  const fixed = rows.map((row) => [number(row.line), number(row.record), column(row), value(row)]);
  const used = columns
    .slice(0, 4)
    .map((c, i) => Math.max(c.title.length, ...fixed.map((cells) => [...(cells[i] ?? '')].length)) + 2)
    .reduce((sum, w) => sum + w, 0);
  const reasonWidth = Math.max(20, options.width - used);
  const cells = rows.map((row, r) => [...(fixed[r] ?? []), truncateEnd(printable(row.reason), reasonWidth)]);
  const { colours } = options;
  return alignedTable(columns, cells, (r, i, text) => {
    if (r === -1) return colours.bold(text);
    if (i === 2) return colours.yellow(text);
    return i === 3 && rows[r]?.value === null ? colours.dim(text) : text;
  });
}
