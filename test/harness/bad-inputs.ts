/**
 * The team's bad inputs (docs/guarantees.md B1–B20), each defined once, so every door's suite in
 * test/integration/bad-inputs/ sends the same bytes under the same names: the per-door tables differ only
 * in how they send an input and what that door answers.
 *
 * Every door loads them with one config (`badInputConfig`), routed by the file's basename:
 * `capped-*` has a 1 MB decompressed-size cap (B4), `replace-*` is a `mode: replace` pipeline (B19),
 * `broken-*` writes to a table that does not exist (a load that fails, for a poison message), and every
 * other name goes to `main` (id bigint NOT NULL, note text; up to half the rows may be rejected).
 * Big inputs are generated when asked for, never stored.
 */
import { brotliCompressSync, deflateSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import { zipSync } from 'fflate';
import type pg from 'pg';
import { expect } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { InletConfig } from '../../src/model/contract.js';
import { flat, int64Ids, parquetFile } from './parquet.js';
import { cell, handmadeXlsx } from './xlsx.js';

/** The tables the config writes to, in schema `public` of the door's own test database. */
export const TABLES = { main: 'bad_main', capped: 'bad_capped', replace: 'bad_replace' } as const;

/** The decompressed-size cap of the `capped-*` pipeline (B4). */
export const CAPPED_BYTES = 1_000_000;

/** The config as a user writes it (JSON is YAML): the CLI reads it from a file, the other doors parse it. */
export function badInputConfigText(): string {
  const columns = [
    { name: 'id', type: 'bigint', nullable: false },
    { name: 'note', type: 'text' },
  ];
  return JSON.stringify(
    {
      pipelines: [
        {
          name: 'capped',
          match: ['capped-*'],
          table: `public.${TABLES.capped}`,
          createTable: true,
          columns,
          limits: { maxDecompressedBytes: CAPPED_BYTES },
        },
        {
          name: 'replace',
          match: ['replace-*'],
          table: `public.${TABLES.replace}`,
          createTable: true,
          mode: 'replace',
          key: ['id'],
          columns,
        },
        {
          name: 'broken',
          match: ['broken-*'],
          table: 'public.bad_no_such_table',
          createTable: false,
          columns,
        },
        {
          name: 'main',
          match: ['**'],
          table: `public.${TABLES.main}`,
          createTable: true,
          columns,
          rejects: { maxRatio: 0.5 },
        },
      ],
    },
    null,
    2,
  );
}

export function badInputConfig(): InletConfig {
  return parseConfig(badInputConfigText(), 'bad-inputs config');
}

export const HEADER = 'id,note\n';

/** A deterministic byte stream (xorshift32), so "random bytes" are the same in every run and door. */
export function seededBytes(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const gzipOf = (bytes: Buffer) => gzipSync(bytes, { level: 6 });

/** A header and 8 MiB of blank lines: about 1000x smaller compressed, far past the 200x ratio limit. */
function blanks(): Buffer {
  return Buffer.concat([Buffer.from(HEADER), Buffer.alloc(8 << 20, 0x0a)]);
}

/** A zip with one entry, stored or deflated as fflate decides. */
function zipOf(entry: string, bytes: Buffer): Buffer {
  return Buffer.from(zipSync({ [entry]: bytes }));
}

function parquetOfRows(rows: number): Buffer {
  return parquetFile(
    {
      id: int64Ids(rows, 1),
      note: flat(
        'note',
        { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
        Array.from({ length: rows }, (_, i) => `row ${i + 1}`),
      ),
    },
    { rowGroupSize: 500, codec: 'UNCOMPRESSED' },
  );
}

function xlsxOfRows(rows: number): Buffer {
  const body = Array.from(
    { length: rows },
    (_, i) =>
      `<row r="${i + 2}">${cell.num(`A${i + 2}`, i + 1)}${cell.str(`B${i + 2}`, `row ${i + 1}`)}</row>`,
  ).join('');
  return handmadeXlsx({
    sheets: [
      { name: 'Sheet1', rows: `<row r="1">${cell.str('A1', 'id')}${cell.str('B1', 'note')}</row>${body}` },
    ],
  });
}

/** A bad input: the name it is sent under (its basename routes it) and its bytes. */
export interface BadInput {
  /** The B-number and a few words, for test names: `B1 empty file`. */
  readonly label: string;
  readonly name: string;
  bytes(): Buffer;
}

const input = (label: string, name: string, bytes: () => Buffer): BadInput => ({ label, name, bytes });

/** A PNG signature and a little IHDR: what a client's "export.csv" sometimes is. */
export const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
  Buffer.from('IHDR'),
  seededBytes(200, 7),
]);

/** The formula cell of B10, as the table must store it. */
export const FORMULA = '=HYPERLINK("http://evil.example/","click")';

/** The hostile header cell of B9, and an identifier one byte past PostgreSQL's 63. */
export const HOSTILE_IDENTIFIER = `x"; DROP TABLE ${TABLES.main}; --`;
export const LONG_IDENTIFIER = 'c'.repeat(64);

/**
 * B11: rows 2 and 4 are good, line 3 holds a NUL, line 5 invalid UTF-8, line 6 is good. Line 2's `ö` is
 * UTF-8, so `csv.encoding: auto` reads the file as UTF-8 (a stray bad byte in it, not a Windows-1252 file).
 */
export const B11_LINES = { nul: 3, invalidUtf8: 5 } as const;

/** The length of B16's one row. */
export const LONG_ROW_BYTES = 20 * 1024 * 1024;

export const B = {
  empty: input('B1 empty file', 'b01-empty.csv', () => Buffer.alloc(0)),
  /** B4: 50 MB of one byte in 50 KB of gzip, into the pipeline capped at 1 MB. */
  gzipBomb: input('B4 gzip bomb past the decompressed-size cap', 'capped-b04-bomb.csv.gz', () =>
    gzipOf(Buffer.alloc(50_000_000, 0x41)),
  ),
  png: input('B6 PNG declared as CSV', 'b06-image.csv', () => PNG),
  noise: input('B6 random bytes declared as CSV', 'b06-noise.csv', () => seededBytes(4096)),
  hostileHeader: input('B9 hostile header identifier', 'b09-hostile-header.csv', () =>
    Buffer.from(`id,note,"${HOSTILE_IDENTIFIER.replaceAll('"', '""')}"\n1,a,x\n`),
  ),
  longHeader: input('B9 header identifier over 63 bytes', 'b09-long-header.csv', () =>
    Buffer.from(`id,note,${LONG_IDENTIFIER}\n1,a,x\n`),
  ),
  formula: input('B10 formula cell', 'b10-formula.csv', () =>
    Buffer.from(`${HEADER}1010,"${FORMULA.replaceAll('"', '""')}"\n`),
  ),
  /** B10 in a rejected row, so that the export of rejected rows has a formula to escape. */
  formulaRejected: input('B10 formula in a rejected value', 'b10-formula-rejected.csv', () =>
    Buffer.from(`${HEADER}1011,fine\n=HYPERLINK("x"),bad\n1012,fine\n`),
  ),
  nulAndInvalidUtf8: input('B11 NUL byte and invalid UTF-8 in rows', 'b11-nul-utf8.csv', () =>
    Buffer.concat([
      Buffer.from(`${HEADER}1101,ök\n1102,nul`),
      Buffer.from([0x00]),
      Buffer.from('here\n1103,ok\n1104,bad'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('\n1105,ok\n'),
    ]),
  ),
  duplicateColumns: input('B12 duplicate column', 'b12-duplicate.csv', () =>
    Buffer.from('id,note,note\n1,a,b\n'),
  ),
  missingColumn: input('B12 missing column', 'b12-missing.csv', () => Buffer.from('id\n1\n')),
  extraColumn: input('B12 extra column', 'b12-extra.csv', () => Buffer.from('id,note,extra\n1,a,x\n')),
  /** Ragged rows: lines 3 and 4 have the wrong number of fields; lines 2, 5 and 6 are fine. */
  ragged: input('B12 ragged rows', 'b12-ragged.csv', () =>
    Buffer.from(`${HEADER}1201,a\n1202\n1203,c,extra\n1204,d\n1205,e\n`),
  ),
  bomOnly: input('B13 BOM only', 'b13-bom-only.csv', () => Buffer.from([0xef, 0xbb, 0xbf])),
  rfc4180: input('B13 BOM, mixed CRLF/LF, embedded newline, doubled quotes', 'b13-rfc4180.csv', () =>
    Buffer.from('\ufeffid,note\r\n1301,"say ""hi""\r\nthere"\n1302,plain\r\n1303,"a,b"\n'),
  ),
  truncatedGzip: input('B15 truncated gzip', 'b15-cut.csv.gz', () => {
    const zipped = gzipOf(Buffer.from(HEADER + Array.from({ length: 5000 }, (_, i) => `${i},x\n`).join('')));
    return zipped.subarray(0, zipped.length - 40);
  }),
  truncatedParquet: input('B15 truncated Parquet', 'b15-cut.parquet', () => {
    const file = parquetOfRows(2000);
    return file.subarray(0, file.length - 200);
  }),
  corruptXlsx: input('B15 corrupt XLSX', 'b15-corrupt.xlsx', () => {
    const file = xlsxOfRows(200);
    return file.subarray(0, file.length - 300);
  }),
  /** B21: a Western European Excel's CSV: Windows-1252 bytes (`€` is 0x80), `;` between fields, CRLF. */
  windows1252Semicolons: input('B21 Windows-1252 with ; between fields', 'b21-excel-semicolons.csv', () =>
    Buffer.concat([
      Buffer.from('id;note\r\n2101;Caf\xe9 ', 'latin1'),
      Buffer.from([0x80]),
      Buffer.from(' 3,50\r\n2102;na\xefve\r\n', 'latin1'),
    ]),
  ),
  /** B21: Excel's "Unicode text": UTF-16LE with its byte order mark, tabs between fields. */
  utf16Tabs: input('B21 UTF-16LE "Unicode text" with tabs', 'b21-unicode-text.csv', () =>
    Buffer.from('\ufeffid\tnote\r\n2111\tZoë 😀\r\n2112\tÅngström\r\n', 'utf16le'),
  ),
  /** B16: one row of 20 MiB (a long note), between two short ones. */
  longRow: input('B16 one 20 MiB row', 'b16-long-row.csv', () =>
    Buffer.concat([
      Buffer.from(`${HEADER}1601,short\n1602,`),
      Buffer.alloc(LONG_ROW_BYTES, 0x78),
      Buffer.from('\n1603,short\n'),
    ]),
  ),
  /** B19: what the replace table holds first (three rows), then the header-only and truncated exports. */
  replaceFull: input('B19 a full export first', 'replace-b19-full.csv', () =>
    Buffer.from(`${HEADER}1,a\n2,b\n3,c\n4,d\n`),
  ),
  replaceHeaderOnly: input('B19 header-only file into replace', 'replace-b19-header-only.csv', () =>
    Buffer.from(HEADER),
  ),
  replaceTruncated: input('B19 truncated file into replace', 'replace-b19-truncated.csv', () =>
    Buffer.from(`${HEADER}1,a\n`),
  ),
  ratioGzip: input('B20 gzip past the ratio limit', 'b20-ratio.csv.gz', () => gzipOf(blanks())),
  ratioDeflate: input('B20 deflate past the ratio limit', 'b20-ratio-deflate.csv', () =>
    deflateSync(blanks()),
  ),
  ratioBrotli: input('B20 brotli past the ratio limit', 'b20-ratio.csv.br', () =>
    brotliCompressSync(blanks(), { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } }),
  ),
  ratioZip: input('B20 zip past the ratio limit', 'b20-ratio.zip', () => zipOf('blank.csv', blanks())),
  /** A good file, for "only the poison fails" and for hostile names that must still load. */
  good: input('a good file', 'good.csv', () => Buffer.from(`${HEADER}9001,fine\n9002,also fine\n`)),
  /** A good file whose load fails every time: its pipeline's table does not exist (the environment's fault). */
  poison: input('a load that fails', 'broken-poison.csv', () => Buffer.from(`${HEADER}1,a\n`)),
} as const;

/** B7: an S3 key with a plus and a space, announced form-encoded in events (`a%2Bb+c.csv`). */
export const PLUS_SPACE_KEY = 'a+b c.csv';

/**
 * B5/B17: hostile names a client can send. `fs: false` marks the names no filesystem can hold (a NUL),
 * which the CLI cannot be given; `encoded` is the name as the ledger's source URIs write it
 * (percent-encoded, `/` kept, as every door encodes).
 */
export const HOSTILE_NAMES: readonly { label: string; name: string; fs: boolean }[] = [
  { label: 'B5 ../ traversal', name: '../../etc/b05-passwd.csv', fs: false },
  { label: 'B5 %2f in the name', name: 'b05-a%2f..%2fb.csv', fs: true },
  { label: 'B5 300 characters', name: `b05-${'n'.repeat(292)}.csv`, fs: false },
  { label: 'B5 a reserved name', name: 'NUL.csv', fs: true },
  { label: 'B5 another reserved name', name: 'CON', fs: true },
  { label: 'B17 NUL byte', name: 'b17-nul\u0000name.csv', fs: false },
  { label: 'B17 control characters and a newline', name: 'b17-ctl\u0001\u001f\nname.csv', fs: true },
];

/** What the ledger holds for a name: the door's scheme and bucket, then the key percent-encoded. */
export { encodeKeyPath } from '../../src/storage/uri-encoding.js';

/** The content a good file sent under the `index`th hostile name holds: one row, id 9100 + index. */
export function hostileNameContent(index: number): Buffer {
  return Buffer.from(`${HEADER}${9100 + index},hostile name ${index}\n`);
}

/**
 * The rows of a table as `id:note`, ordered by id; a note longer than 1000 characters shows as
 * `<n chars of x>` (B16's row). No table: no rows.
 */
export async function tableRows(pool: pg.Pool, table: string): Promise<string[]> {
  const exists = await pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`public.${table}`]);
  if (exists.rows[0]?.t === null) return [];
  const result = await pool.query<{ row: string }>(
    `SELECT id::text || ':' || CASE WHEN length(note) > 1000
              THEN '<' || length(note) || ' chars of ' || left(note, 1) || '>' ELSE coalesce(note, 'NULL') END AS row
       FROM public.${table} ORDER BY id`,
  );
  return result.rows.map((r) => r.row);
}

export interface LedgerRow {
  id: string;
  pipeline: string;
  source_uri: string;
  status: string;
  error_code: string | null;
  error_message: string | null;
  rows_loaded: number;
  rows_rejected: number;
}

/** The final ledger rows (not queued or processing) of one source URI, oldest first. */
export async function ledgerRows(pool: pg.Pool, sourceUri: string): Promise<LedgerRow[]> {
  const result = await pool.query<LedgerRow>(
    `SELECT id::text, pipeline, source_uri, status, error_code, error_message,
            rows_loaded::int AS rows_loaded, rows_rejected::int AS rows_rejected
       FROM inlet.ingestions
      WHERE source_uri = $1 AND status NOT IN ('queued', 'processing')
      ORDER BY coalesce(finished_at, started_at, received_at)`,
    [sourceUri],
  );
  return result.rows;
}

/** The rejected rows of an ingestion: line, column and reason. */
export async function rejectRows(
  pool: pg.Pool,
  ingestionId: string,
): Promise<{ line: number; column: string | null; reason: string }[]> {
  const result = await pool.query<{ line: number; column: string | null; reason: string }>(
    'SELECT line::int AS line, column_name AS column, reason FROM inlet.rejects WHERE ingestion_id = $1 ORDER BY line',
    [ingestionId],
  );
  return result.rows;
}

/**
 * What the ledger says of an input once a door has handed it to the engine — the same at every door: the
 * final status, the error code (a rejected file), the row counts, the rows it leaves in its table (none for
 * a rejected file: nothing half-loaded) and, for rejected rows, their line and a pattern of their reason.
 */
export interface Verdict {
  readonly status: 'loaded' | 'rejected' | 'failed';
  readonly code?: string;
  /** A pattern the error message matches: the clear error a user reads. */
  readonly message?: RegExp;
  readonly rowsLoaded: number;
  readonly rowsRejected?: number;
  readonly rows?: readonly string[];
  readonly rejects?: readonly { line: number; column?: string; reason: RegExp }[];
}

const rejected = (code: string, message: RegExp): Verdict => ({
  status: 'rejected',
  code,
  message,
  rowsLoaded: 0,
  rows: [],
});

export const VERDICTS: Record<keyof typeof B, Verdict> = {
  empty: rejected('empty_file', /empty/i),
  gzipBomb: rejected('decompressed_too_large', /maxDecompressedBytes/),
  png: rejected('not_tabular', /the content is a PNG image/),
  noise: rejected('not_tabular', /binary|not a CSV/i),
  hostileHeader: rejected('schema_drift', /line 1.*unexpected column "x\\"; DROP TABLE/),
  longHeader: rejected('schema_drift', new RegExp(`line 1.*unexpected column "${LONG_IDENTIFIER}"`)),
  formula: { status: 'loaded', rowsLoaded: 1, rowsRejected: 0, rows: [`1010:${FORMULA}`] },
  formulaRejected: {
    status: 'loaded',
    rowsLoaded: 2,
    rowsRejected: 1,
    rows: ['1011:fine', '1012:fine'],
    rejects: [{ line: 3, column: 'id', reason: /integer|bigint|number/i }],
  },
  nulAndInvalidUtf8: {
    status: 'loaded',
    rowsLoaded: 3,
    rowsRejected: 2,
    rows: ['1101:ök', '1103:ok', '1105:ok'],
    rejects: [
      { line: B11_LINES.nul, column: 'note', reason: /^contains a NUL byte/ },
      { line: B11_LINES.invalidUtf8, column: 'note', reason: /^is not valid UTF-8/ },
    ],
  },
  duplicateColumns: rejected('schema_drift', /line 1.*"note"/),
  missingColumn: rejected('schema_drift', /line 1.*missing column "note"/),
  extraColumn: rejected('schema_drift', /line 1.*unexpected column "extra"/),
  ragged: {
    status: 'loaded',
    rowsLoaded: 3,
    rowsRejected: 2,
    rows: ['1201:a', '1204:d', '1205:e'],
    rejects: [
      { line: 3, reason: /^has 1 fields?, expected 2/ },
      { line: 4, reason: /^has 3 fields, expected 2/ },
    ],
  },
  bomOnly: rejected('empty_file', /no header row and no data/),
  rfc4180: {
    status: 'loaded',
    rowsLoaded: 3,
    rowsRejected: 0,
    rows: ['1301:say "hi"\r\nthere', '1302:plain', '1303:a,b'],
  },
  windows1252Semicolons: {
    status: 'loaded',
    rowsLoaded: 2,
    rowsRejected: 0,
    rows: ['2101:Café € 3,50', '2102:naïve'],
  },
  utf16Tabs: { status: 'loaded', rowsLoaded: 2, rowsRejected: 0, rows: ['2111:Zoë 😀', '2112:Ångström'] },
  truncatedGzip: rejected('corrupt_gzip', /truncated/),
  truncatedParquet: rejected('corrupt_parquet', /truncated or damaged/),
  corruptXlsx: rejected('corrupt_zip', /truncated or damaged/),
  longRow: {
    status: 'loaded',
    rowsLoaded: 3,
    rowsRejected: 0,
    rows: ['1601:short', `1602:<${LONG_ROW_BYTES} chars of x>`, '1603:short'],
  },
  replaceFull: { status: 'loaded', rowsLoaded: 4, rowsRejected: 0 },
  replaceHeaderOnly: rejected('replace_guard', /0 rows to load.*holds 4 rows/),
  replaceTruncated: rejected('replace_guard', /1 row to load, fewer than minRatio 0\.5 × the 4 rows/),
  ratioGzip: rejected('compression_ratio', /maxCompressionRatio/),
  ratioDeflate: rejected('compression_ratio', /maxCompressionRatio/),
  ratioBrotli: rejected('compression_ratio', /maxCompressionRatio/),
  ratioZip: rejected('compression_ratio', /maxCompressionRatio/),
  good: { status: 'loaded', rowsLoaded: 2, rowsRejected: 0, rows: ['9001:fine', '9002:also fine'] },
  poison: { status: 'failed', code: 'database_refused', message: /does not exist/, rowsLoaded: 0, rows: [] },
};

/** The rows `main` holds once every input in `keys` has been through a door (each loads at most once). */
export function expectedMainRows(keys: readonly (keyof typeof B)[]): string[] {
  return keys
    .filter((key) => !B[key].name.startsWith('capped-') && !B[key].name.startsWith('replace-'))
    .flatMap((key) => VERDICTS[key].rows ?? [])
    .sort((a, b) => Number(a.split(':')[0]) - Number(b.split(':')[0]));
}

/** The rejected rows of an ingestion are the verdict's: same lines, columns and reasons, in order. */
export async function expectRejects(pool: pg.Pool, ingestionId: string, verdict: Verdict): Promise<void> {
  if (verdict.rejects === undefined) return;
  const rejects = await rejectRows(pool, ingestionId);
  expect(rejects.map((r) => r.line)).toEqual(verdict.rejects.map((r) => r.line));
  for (const [i, expected] of verdict.rejects.entries()) {
    if (expected.column !== undefined) expect(rejects[i]?.column).toBe(expected.column);
    expect(rejects[i]?.reason).toMatch(expected.reason);
  }
}
