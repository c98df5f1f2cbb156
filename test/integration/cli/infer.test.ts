/**
 * `inlet infer` as users run it, and schema drift as `inlet ingestions` shows it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { jsonLines } from '../../harness/cli.js';
import { cliWorkspace } from '../../harness/cli-workspace.js';
import { flat, parquetFile } from '../../harness/parquet.js';

const cli = cliWorkspace('inlet-infer-');
const { inlet } = cli;

describe('inlet infer', () => {
  it('prints a pipeline for a CSV sample that the config loader reads as it is', async () => {
    const rows = Array.from(
      { length: 50 },
      (_, i) =>
        `${i + 1},0${(i % 9) + 1}123,${(i * 1.25).toFixed(2)},2024-01-${String((i % 28) + 1).padStart(2, '0')}`,
    );
    await writeFile(
      join(cli.dir, 'Customer Orders.csv'),
      `Order ID,Zip Code,Amount,Placed\n${rows.join('\n')}\n`,
    );
    const run = await inlet('infer', join(cli.dir, 'Customer Orders.csv'), '--sample', '20');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(
      /^# Proposed by `inlet infer` from the first 20 rows of Customer Orders\.csv\./,
    );
    const [pipeline] = parseConfig(run.stdout, 'stdout').pipelines;
    expect(pipeline).toMatchObject({
      name: 'customer_orders',
      table: { schema: 'public', name: 'customer_orders' },
    });
    expect(pipeline?.columns.map((c) => [c.name, c.type.sql, c.source])).toEqual([
      ['order_id', 'smallint', 'Order ID'],
      ['zip_code', 'text', 'Zip Code'],
      ['amount', 'numeric(4,2)', 'Amount'],
      ['placed', 'date', 'Placed'],
    ]);
    expect(run.stdout).toContain('"01123" (line 2) has leading zeros: kept as text');
    expect(run.stdout).toContain('# key: [order_id]');
  });

  it('reads Parquet and XLSX, with --table, --sheet and --header-row', async () => {
    await writeFile(
      join(cli.dir, 'events.parquet'),
      parquetFile({
        event_id: flat(
          'event_id',
          { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } },
          ['12345678-1234-1234-1234-123456789abc'],
        ),
        at: flat(
          'at',
          { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } },
          [1n],
        ),
      }),
    );
    const parquet = await inlet('infer', join(cli.dir, 'events.parquet'), '--table', 'raw.events');
    expect(parquet.code).toBe(0);
    const [fromParquet] = parseConfig(parquet.stdout, 'stdout').pipelines;
    expect(fromParquet).toMatchObject({ format: 'parquet', table: { schema: 'raw', name: 'events' } });
    expect(fromParquet?.columns.map((c) => c.type.sql)).toEqual(['uuid', 'timestamptz']);

    const book = new ExcelJS.Workbook();
    book.addWorksheet('Cover').addRow(['nothing here']);
    const sheet = book.addWorksheet('Data');
    sheet.addRow(['Report']);
    sheet.addRow(['Day', 'Total']);
    sheet.addRow([new Date(Date.UTC(2024, 0, 31)), 10]);
    sheet.getColumn(1).numFmt = 'dd/mm/yyyy';
    await writeFile(join(cli.dir, 'report.xlsx'), Buffer.from(await book.xlsx.writeBuffer()));
    const xlsx = await inlet('infer', join(cli.dir, 'report.xlsx'), '--sheet', 'Data', '--header-row', '2');
    expect(xlsx.code).toBe(0);
    const [fromXlsx] = parseConfig(xlsx.stdout, 'stdout').pipelines;
    expect(fromXlsx).toMatchObject({ format: 'xlsx', xlsx: { sheet: 'Data', headerRow: 2 } });
    expect(fromXlsx?.columns.map((c) => [c.name, c.type.sql])).toEqual([
      ['day', 'date'],
      ['total', 'smallint'],
    ]);
  });

  it('fails clearly on a file it cannot read, and on a bad option', async () => {
    await writeFile(
      join(cli.dir, 'image.csv'),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]),
    );
    const png = await inlet('infer', join(cli.dir, 'image.csv'));
    expect(png).toMatchObject({ code: 1, stdout: '' });
    expect(png.stderr).toMatch(/error: Not a supported file: the content is a PNG image/);
    expect((await inlet('infer', join(cli.dir, 'image.csv'), '--sample', '0')).code).toBe(2);
  });
});

describe('schema drift in inlet ingestions', () => {
  it('shows the diff of a rejected file', async () => {
    await writeFile(
      join(cli.dir, 'inlet.config.yaml'),
      'pipelines:\n  - name: drift\n    match: ["*.drift.csv"]\n    table: public.drift\n    createTable: true\n    columns:\n      - { name: id, type: bigint }\n      - { name: amount, type: numeric }\n',
    );
    await writeFile(join(cli.dir, 'a.drift.csv'), 'id,amt\n1,2\n');
    const config = join(cli.dir, 'inlet.config.yaml');
    const ingest = await inlet('ingest', join(cli.dir, 'a.drift.csv'), '--config', config, '--json');
    expect(ingest.code).toBe(1);
    const [result] = jsonLines(ingest.stdout);
    expect(result).toMatchObject({ status: 'rejected', error: { code: 'schema_drift' } });
    const listed = await inlet('ingestions', '--json', '--pipeline', 'drift');
    const [row] = jsonLines(listed.stdout);
    expect(row).toMatchObject({
      status: 'rejected',
      error: {
        code: 'schema_drift',
        message: expect.stringContaining(
          'missing column "amount" (expected by the contract); unexpected column "amt" (not in the contract; did you mean "amount"?)',
        ),
      },
    });
  });
});
