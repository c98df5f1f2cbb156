/**
 * The CSV scanner across chunk boundaries: work linear in the bytes whatever the row length, the same rows
 * at every random chunking, and the row cap refusing a runaway row while it streams.
 */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { InletError } from '../../../src/errors.js';
import { CsvScanner, type CsvScannerOptions } from '../../../src/formats/csv/scanner.js';

interface Row {
  fields: string[];
  line: number;
  problem: string | undefined;
}

const OPTIONS: CsvScannerOptions = { delimiter: ',', quote: '"', escape: '"' };

function collector(scanner: CsvScanner, rows: Row[]) {
  return (buf: Buffer, count: number, line: number, _s: number, _e: number, problem: string | undefined) => {
    const fields: string[] = [];
    for (let i = 0; i < count; i++) fields.push(buf.toString('utf8', scanner.starts[i], scanner.ends[i]));
    rows.push({ fields, line, problem });
  };
}

/** Scans `bytes` cut at `cuts` (sorted offsets), each piece a fresh buffer as a stream would give. */
function scanCut(bytes: Buffer, cuts: number[], options: Partial<CsvScannerOptions> = {}): Row[] {
  const scanner = new CsvScanner({ ...OPTIONS, ...options });
  const rows: Row[] = [];
  const onRow = collector(scanner, rows);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    scanner.push(Buffer.from(bytes.subarray(from, cut)), onRow);
    from = cut;
  }
  scanner.finish(onRow);
  return rows;
}

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes examined plus bytes copied by one scanner over `bytes` fed in `chunkSize` pieces; also the rows. */
function workOf(bytes: Buffer, chunkSize: number): { work: number; rows: number; lastFields: number } {
  const scanner = new CsvScanner(OPTIONS);
  let rows = 0;
  let lastFields = 0;
  const onRow = (_b: Buffer, count: number) => {
    rows++;
    lastFields = count;
  };
  for (let i = 0; i < bytes.length; i += chunkSize)
    scanner.push(Buffer.from(bytes.subarray(i, i + chunkSize)), onRow);
  scanner.finish(onRow);
  return { work: scanner.work.examined + scanner.work.copied, rows, lastFields };
}

describe('CsvScanner work is linear in the bytes, whatever the row length', () => {
  const SIZE = 8 * 1024 * 1024;
  const CHUNK = 64 * 1024;

  /** Rows of about 60 bytes, one quoted field with a doubled quote each, filling `size` bytes. */
  function shortRows(size: number): Buffer {
    const row = Buffer.from('1000001,2024-01-02T03:04:05Z,"Ada ""Countess"" Lovelace",12.50,true\n');
    const out = Buffer.allocUnsafe(size);
    for (let pos = 0; pos < size; pos += row.length) row.copy(out, pos, 0, Math.min(row.length, size - pos));
    out[size - 1] = 0x0a;
    return out;
  }

  const longRows: Record<string, (size: number) => Buffer> = {
    'one quoted field with quotes and newlines': (size) => {
      const body = Buffer.alloc(size - 20, 'x');
      for (let i = 1000; i < body.length - 2; i += 4096) {
        body[i] = 0x22; // a doubled quote: ""
        body[i + 1] = 0x22;
        body[i + 2] = 0x0a; // and an embedded newline
      }
      return Buffer.concat([Buffer.from('1,"'), body, Buffer.from('",end\n')]);
    },
    'one unquoted field': (size) =>
      Buffer.concat([Buffer.from('1,'), Buffer.alloc(size - 7, 'y'), Buffer.from(',end\n')]),
    'a row of many short fields': (size) => {
      const out = Buffer.alloc(size, ',');
      for (let i = 0; i < size; i += 2) out[i] = 0x7a;
      out[size - 1] = 0x0a;
      return out;
    },
  };

  for (const [name, make] of Object.entries(longRows)) {
    it(`costs about as much for ${name} (8 MiB) as for 8 MiB of short rows`, () => {
      const short = workOf(shortRows(SIZE), CHUNK);
      const longBytes = make(SIZE);
      const long = workOf(longBytes, CHUNK);
      expect(long.rows).toBe(1);
      const ratio = long.work / short.work;
      // Today each byte is examined a few times and copied at most twice; rescanning the growing row at
      // every chunk made this ratio about a hundred at this size (and growing with it).
      expect(ratio, `long-row work ${long.work} / short-rows work ${short.work}`).toBeLessThan(5);
      expect(long.work / longBytes.length).toBeLessThan(6);
    });
  }
});

describe('CsvScanner at random chunkings (fuzz)', () => {
  const seed = Number(process.env.CSV_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  // Printed so a failure can be replayed with CSV_FUZZ_SEED=<seed>.
  console.log(`csv scanner fuzz seed: ${seed} (replay with CSV_FUZZ_SEED=${seed})`);

  /** A random field value: mostly short, sometimes long, with quotes, CR, LF and multi-byte characters. */
  function value(random: () => number): string {
    const alphabet = ['a', 'b', ',', '"', '\n', '\r\n', '\r', ' ', 'é', '🙂', '\t', '\\'];
    const long = random() < 0.03;
    const n = long ? 1000 + Math.floor(random() * 20_000) : Math.floor(random() * 8);
    let text = '';
    for (let i = 0; i < n; i++)
      text += long && random() < 0.9 ? 'x' : (alphabet[Math.floor(random() * alphabet.length)] as string);
    return text;
  }

  /** A random CSV document: well formed unless `broken`, which adds stray text after quotes and open quotes. */
  function document(random: () => number, broken: boolean): { text: string; rows: string[][] } {
    const rows: string[][] = [];
    const lines: string[] = [];
    const count = 1 + Math.floor(random() * 40);
    const width = 1 + Math.floor(random() * 5);
    const ends = ['\n', '\r\n', '\r'];
    let text = '';
    for (let r = 0; r < count; r++) {
      const row: string[] = [];
      const cells: string[] = [];
      for (let f = 0; f < width; f++) {
        const v = value(random);
        row.push(v);
        let cell = /[",\r\n]/.test(v) || v === '' || random() < 0.2 ? `"${v.replaceAll('"', '""')}"` : v;
        if (broken && random() < 0.05) cell = random() < 0.5 ? `"${v.replaceAll('"', '')}"zz` : `"${v}`;
        cells.push(cell);
      }
      rows.push(row);
      const line = cells.join(',');
      lines.push(line);
      const end = ends[Math.floor(random() * ends.length)] as string;
      text += line + (r === count - 1 && random() < 0.3 ? '' : end);
      if (random() < 0.05) text += '\n'; // a blank line
    }
    return { text, rows };
  }

  function randomCuts(random: () => number, length: number): number[] {
    const cuts: number[] = [];
    const style = random();
    let pos = 0;
    for (let guard = 0; guard < 1_000_000; guard++) {
      // Some runs cut every byte or two; others at random sizes up to a large chunk.
      const step =
        style < 0.2 ? 1 + Math.floor(random() * 3) : 1 + Math.floor(random() * (style < 0.6 ? 64 : 20_000));
      pos += step;
      if (pos >= length) break;
      cuts.push(pos);
    }
    return cuts;
  }

  it('finds the same rows, lines and problems as one whole buffer, and as csv-parse when well formed', () => {
    const random = prng(seed);
    const started = Date.now();
    let cases = 0;
    for (; cases < 250 && Date.now() - started < 6_000; cases++) {
      const broken = random() < 0.3;
      const { text, rows } = document(random, broken);
      const bytes = Buffer.from(text);
      const whole = scanCut(bytes, []);
      if (!broken) {
        // csv-parse as the reference; it keeps a lone CR inside quotes and reads lone CR line ends too.
        const reference = parse(text, {
          relax_column_count: true,
          skip_empty_lines: true,
          record_delimiter: ['\r\n', '\n', '\r'],
        }) as string[][];
        expect(
          whole.map((r) => r.fields),
          `seed ${seed}, case ${cases}: whole buffer vs csv-parse`,
        ).toEqual(reference);
        expect(reference.length).toBe(rows.length);
      }
      for (let k = 0; k < 3; k++) {
        const cuts = randomCuts(random, bytes.length);
        expect(
          scanCut(bytes, cuts),
          `seed ${seed}, case ${cases}, cuts ${cuts.slice(0, 20).join(' ')}`,
        ).toEqual(whole);
      }
    }
    expect(cases).toBeGreaterThan(20);
  });

  it('agrees at random chunkings with a backslash escape and a tab delimiter', () => {
    const random = prng(seed ^ 0x5bd1e995);
    const options = { delimiter: '\t', escape: '\\' };
    const alphabet = ['a', '\t', '"', '\\', '\\"', '\\\\', '\n', '\r\n', 'é', '""'];
    for (let c = 0; c < 200; c++) {
      let text = '';
      const rows = 1 + Math.floor(random() * 30);
      for (let r = 0; r < rows; r++) {
        const cells: string[] = [];
        for (let f = 0; f < 3; f++) {
          let v = '';
          const n = Math.floor(random() * 10);
          for (let i = 0; i < n; i++) v += alphabet[Math.floor(random() * alphabet.length)];
          cells.push(random() < 0.5 ? `"${v}"` : v.replace(/[\t\r\n"]/g, ''));
        }
        text += `${cells.join('\t')}${random() < 0.5 ? '\n' : '\r\n'}`;
      }
      const bytes = Buffer.from(text);
      const whole = scanCut(bytes, [], options);
      for (let k = 0; k < 3; k++) {
        const cuts = randomCuts(random, bytes.length);
        expect(scanCut(bytes, cuts, options), `seed ${seed}, case ${c}`).toEqual(whole);
      }
    }
  });
});

describe('CsvScanner row cap', () => {
  it('refuses a runaway row as it streams, naming its line, without reading the rest', () => {
    const cap = 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const scanner = new CsvScanner({ ...OPTIONS, maxRowBytes: cap, source: 'file:///in/orders.csv' });
    const onRow = () => {};
    let pulled = 0;
    let error: unknown;
    try {
      scanner.push(Buffer.from('id,name\n1,ok\n2,"never closed'), onRow);
      // A file that would be 1 GiB: the cap must stop it long before.
      for (let i = 0; i < 16 * 1024; i++) {
        pulled += chunk.length;
        scanner.push(chunk, onRow);
      }
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InletError);
    const inlet = error as InletError;
    expect(inlet.code).toBe('row_too_large');
    expect(inlet.message).toMatch(/line 3 is longer than 1048576 bytes/);
    expect(inlet.message).toMatch(/quote that is never closed/);
    expect(inlet.location).toEqual({ source: 'file:///in/orders.csv', line: 3 });
    expect(pulled).toBeLessThanOrEqual(cap + chunk.length);
    expect(pulled).toBeGreaterThanOrEqual(cap - chunk.length);
  });

  it('refuses a row over the cap even when its line end arrives in the same chunk', () => {
    const text = `a\n${'x'.repeat(60)}\nb\n`;
    expect(() => scanCut(Buffer.from(text), [10, 20, 30, 40], { maxRowBytes: 50 })).toThrow(
      /line 2 is longer than 50/,
    );
  });

  it('accepts a row of exactly the cap across chunks', () => {
    const text = `a\n${'x'.repeat(50)}\nb\n`;
    expect(scanCut(Buffer.from(text), [10, 20, 30, 40], { maxRowBytes: 50 }).map((r) => r.fields)).toEqual([
      ['a'],
      ['x'.repeat(50)],
      ['b'],
    ]);
  });
});
