/**
 * Bad inputs through the CLI door, as a user runs it: files written to a folder, `inlet ingest --json` on
 * them, and for each file its exit code, its JSON line (status and error code), its ledger row, its rejected
 * rows and what its table holds afterwards. Inputs come from test/harness/bad-inputs.ts, the same bytes
 * every door is fed.
 *
 * Two runs of `inlet ingest` cover the table: one of the files that must load (exit 0), then one of the files
 * that must be refused (exit 1); each file's verdict is its own JSON line, checked against the ledger.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  B,
  badInputConfigText,
  expectedMainRows,
  expectRejects,
  HOSTILE_NAMES,
  hostileNameContent,
  ledgerRows,
  TABLES,
  tableRows,
  VERDICTS,
} from '../../harness/bad-inputs.js';
import { jsonLines, type Run } from '../../harness/cli.js';
import { cliWorkspace } from '../../harness/cli-workspace.js';

const workspace = cliWorkspace('inlet-bad-cli-');

type Key = keyof typeof B;

/** Files that must load, in the order given (B19's full export before the files its guard refuses). */
const LOADED: readonly Key[] = [
  'formula',
  'formulaRejected',
  'nulAndInvalidUtf8',
  'ragged',
  'rfc4180',
  'windows1252Semicolons',
  'utf16Tabs',
  'longRow',
  'replaceFull',
];
/** Files that must be refused, each with its own code. */
const REFUSED: readonly Key[] = [
  'empty',
  'gzipBomb',
  'png',
  'noise',
  'hostileHeader',
  'longHeader',
  'duplicateColumns',
  'missingColumn',
  'extraColumn',
  'bomOnly',
  'truncatedGzip',
  'truncatedParquet',
  'corruptXlsx',
  'replaceHeaderOnly',
  'replaceTruncated',
  'ratioGzip',
  'ratioDeflate',
  'ratioBrotli',
  'ratioZip',
];

/** B5/B17 names a filesystem can hold, plus what only a filesystem can: a name that is not UTF-8. */
const FS_NAMES = HOSTILE_NAMES.filter((n) => n.fs);
/** 255 bytes, the longest name a Linux filesystem takes (300 characters cannot be one file name). */
const LONGEST_NAME = `b05-${'n'.repeat(255 - 'b05-.csv'.length)}.csv`;

const path = (name: string) => join(workspace.dir, 'in', name);
const uri = (name: string) => pathToFileURL(path(name)).href;

let loadedRun: Run;
let refusedRun: Run;
let namesRun: Run;
const lines = new Map<string, Record<string, unknown>>();

beforeAll(async () => {
  await mkdir(join(workspace.dir, 'in'));
  await writeFile(join(workspace.dir, 'inlet.config.yaml'), badInputConfigText());
  for (const key of [...LOADED, ...REFUSED]) await writeFile(path(B[key].name), B[key].bytes());
  const names = [...FS_NAMES.map((n) => n.name), LONGEST_NAME];
  for (const [i, name] of names.entries()) await writeFile(path(name), hostileNameContent(i));
  const config = join(workspace.dir, 'inlet.config.yaml');
  const ingest = (files: readonly string[]) =>
    workspace.inlet('ingest', '--config', config, '--json', ...files.map((name) => path(name)));

  loadedRun = await ingest(LOADED.map((key) => B[key].name));
  refusedRun = await ingest(REFUSED.map((key) => B[key].name));
  namesRun = await ingest(names);
  for (const run of [loadedRun, refusedRun, namesRun]) {
    for (const line of jsonLines(run.stdout)) lines.set(String(line.source), line);
  }
}, 120_000);

describe('inlet ingest: files that must load, with their bad rows rejected (exit 0)', () => {
  it('exits 0 and prints one JSON line per file', () => {
    expect(loadedRun.code, loadedRun.stderr).toBe(0);
    expect(jsonLines(loadedRun.stdout)).toHaveLength(LOADED.length);
  });

  it.each(LOADED.map((key) => [B[key].label, key] as const))('%s', async (_label, key) => {
    await expectVerdict(key);
  });
});

describe('inlet ingest: files that must be refused (exit 1, the code in --json, nothing loaded)', () => {
  it('exits 1 and prints one JSON line per file', () => {
    expect(refusedRun.code, refusedRun.stderr).toBe(1);
    expect(jsonLines(refusedRun.stdout)).toHaveLength(REFUSED.length);
  });

  it.each(REFUSED.map((key) => [B[key].label, key] as const))('%s', async (_label, key) => {
    await expectVerdict(key);
  });
});

describe('inlet ingest: what the tables hold afterwards', () => {
  it('main holds exactly the rows of the files that loaded: nothing of a refused file, no half file', async () => {
    expect(await tableRows(workspace.db.pool, TABLES.main)).toEqual([
      ...expectedMainRows([...LOADED, ...REFUSED]),
      ...[...FS_NAMES.map((n) => n.name), LONGEST_NAME].map((_, i) => `${9100 + i}:hostile name ${i}`),
    ]);
  });

  it('B4: the capped table holds nothing; B19: the replace table keeps its four rows', async () => {
    expect(await tableRows(workspace.db.pool, TABLES.capped)).toEqual([]);
    expect(await tableRows(workspace.db.pool, TABLES.replace)).toEqual(['1:a', '2:b', '3:c', '4:d']);
  });

  it('B10: `inlet rejects --format csv` escapes a formula in a rejected value', async () => {
    const [row] = await ledgerRows(workspace.db.pool, uri(B.formulaRejected.name));
    const run = await workspace.inlet('rejects', String(row?.id), '--format', 'csv');
    expect(run.code, run.stderr).toBe(0);
    const [header, first] = run.stdout.split('\r\n');
    expect(header).toBe('line,record,column,value,reason');
    expect(first).toMatch(/^3,\d+,id,"'=HYPERLINK\(""x""\)",/);
  });
});

describe('inlet ingest: hostile file names (B5, B17: what a filesystem holds)', () => {
  it('exits 0: every name loads, under its own percent-encoded file:// source', async () => {
    expect(namesRun.code, namesRun.stdout + namesRun.stderr).toBe(0);
    const names = [...FS_NAMES.map((n) => n.name), LONGEST_NAME];
    for (const name of names) {
      const source = uri(name);
      expect(source, name).toMatch(/^file:\/\/\/[\x21-\x7e]+$/);
      expect(lines.get(source), name).toMatchObject({ status: 'loaded', rowsLoaded: 1 });
      expect(await ledgerRows(workspace.db.pool, source), name).toMatchObject([
        { status: 'loaded', rows_loaded: 1 },
      ]);
    }
  });
});

describe('inlet ingest: a file whose name is not UTF-8 (B17: bytes PostgreSQL text refuses)', () => {
  it('loads it from a folder and records it under its bytes percent-encoded (%FF)', async () => {
    const dir = join(workspace.dir, 'bytes');
    await mkdir(dir);
    const raw = Buffer.concat([
      Buffer.from(`${dir}/b17-latin1-`),
      Buffer.from([0xe9, 0xff]),
      Buffer.from('.csv'),
    ]);
    await writeFile(raw, hostileNameContent(60));
    const run = await workspace.inlet(
      'ingest',
      '--config',
      join(workspace.dir, 'inlet.config.yaml'),
      '--json',
      dir,
    );
    const source = `${pathToFileURL(dir).href}/b17-latin1-%E9%FF.csv`;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(jsonLines(run.stdout)).toMatchObject([{ source, status: 'loaded', rowsLoaded: 1 }]);
    expect(await ledgerRows(workspace.db.pool, source)).toMatchObject([{ status: 'loaded', rows_loaded: 1 }]);
    // Named again by that URI, the same bytes are the same file: a duplicate, not a second load.
    const again = await workspace.inlet(
      'ingest',
      '--config',
      join(workspace.dir, 'inlet.config.yaml'),
      '--json',
      source,
    );
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(jsonLines(again.stdout)).toMatchObject([{ source, status: 'duplicate' }]);
  });
});

/** The file's JSON line and ledger row say the verdict every door reaches; its rejected rows too. */
async function expectVerdict(key: Key): Promise<void> {
  const verdict = VERDICTS[key];
  const source = uri(B[key].name);
  const line = lines.get(source);
  expect(line, `no JSON line for ${source}`).toBeDefined();
  expect(line).toMatchObject({
    status: verdict.status,
    rowsLoaded: verdict.rowsLoaded,
    ...(verdict.rowsRejected === undefined ? {} : { rowsRejected: verdict.rowsRejected }),
  });
  if (verdict.code === undefined) expect(line?.error).toBeUndefined();
  else {
    const error = line?.error as { code: string; message: string };
    expect(error.code).toBe(verdict.code);
    expect(error.message).toMatch(verdict.message ?? /./);
  }
  const rows = await ledgerRows(workspace.db.pool, source);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({
    status: verdict.status,
    error_code: verdict.code ?? null,
    rows_loaded: verdict.rowsLoaded,
  });
  await expectRejects(workspace.db.pool, String(rows[0]?.id), verdict);
}
