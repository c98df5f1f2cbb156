import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { COPY_FORMATS, engineHarness } from '../../harness/engine.js';
import { seededRandom } from '../../harness/seeded-random.js';
import { memorySource } from '../../harness/sources.js';

const h = engineHarness('xlcsv');

const COLUMNS = [
  { name: 'order_id', type: 'bigint', nullable: false },
  { name: 'placed_at', type: 'timestamptz' },
  { name: 'day', type: 'date' },
  { name: 'customer', type: 'text' },
  { name: 'amount', type: 'numeric(12,2)' },
  { name: 'qty', type: 'integer' },
  { name: 'paid', type: 'boolean' },
];

const ROWS = 3_000;

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The same orders as an XLSX sheet written as a spreadsheet program writes one (exceljs: shared strings,
 * date-formatted timestamps to the millisecond, numbers) and as CSV text, the bench's columns and more.
 */
async function sameRows(): Promise<{ xlsx: Buffer; csv: string }> {
  const next = seededRandom(16);
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('Orders');
  sheet.addRow(COLUMNS.map((c) => c.name));
  let csv = `${COLUMNS.map((c) => c.name).join(',')}\n`;
  const names = [
    'Ada Lovelace',
    'Grace Hopper, Ltd.',
    'Edsger "E" Dijkstra',
    'Barbara Liskov',
    'Ken ü Thompson ☺',
  ];
  for (let i = 0; i < ROWS; i++) {
    const ms =
      Date.UTC(2000, 0, 1) + Math.floor(next() * 30 * 365 * 86_400) * 1000 + Math.floor(next() * 1000);
    const day = new Date(Date.UTC(1990, 0, 1) + Math.floor(next() * 20_000) * 86_400_000);
    const customer = `${names[Math.floor(next() * names.length)]} ${Math.floor(next() * 500)}`;
    const cents = Math.floor(next() * 100_000_000) - 1_000_000;
    const amount = cents / 100;
    const qty = Math.floor((next() - 0.5) * 2 ** (1 + next() * 30));
    const paid = next() < 0.5;
    const row = sheet.addRow([1_000_000_000 + i, new Date(ms), day, customer, amount, qty, paid]);
    row.getCell(2).numFmt = 'yyyy-mm-dd hh:mm:ss.000';
    row.getCell(3).numFmt = 'yyyy-mm-dd';
    const amountText = `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
    csv += `${[1_000_000_000 + i, new Date(ms).toISOString(), day.toISOString().slice(0, 10), csvField(customer), amountText, qty, paid].join(',')}\n`;
  }
  return { xlsx: Buffer.from(await book.xlsx.writeBuffer()), csv };
}

describe.each(COPY_FORMATS)('%s', (_label, format) => {
  it('loads the same orders from XLSX and from CSV into equal tables, row for row', async () => {
    h.state.copyFormat = format;
    const { xlsx, csv } = await sameRows();
    const fromXlsx = await h.freshPipeline({ columns: COLUMNS, format: 'xlsx', timezone: 'UTC' });
    const fromCsv = await h.freshPipeline({ columns: COLUMNS, format: 'csv', timezone: 'UTC' });
    const loaded = await h.run(
      memorySource('orders.xlsx', xlsx, { ranged: true, chunkSize: 4096 }),
      fromXlsx,
    );
    const reference = await h.run(memorySource('orders.csv', csv), fromCsv);
    expect(loaded).toMatchObject({ status: 'loaded', rowsLoaded: ROWS, rowsRejected: 0 });
    expect(reference).toMatchObject({ status: 'loaded', rowsLoaded: ROWS, rowsRejected: 0 });
    const rows = async (table: string) =>
      (
        await h.state.pool.query(
          `SELECT ${COLUMNS.map((c) => c.name).join(', ')} FROM public.${table} ORDER BY order_id`,
        )
      ).rows;
    expect(await rows(fromXlsx.table.name)).toEqual(await rows(fromCsv.table.name));
  });
});
