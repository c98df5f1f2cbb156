import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../../src/errors.js';
import {
  type JsonRecord,
  JsonSyntaxIssue,
  readJsonArray,
  readNdjson,
} from '../../../src/formats/json/index.js';
import { seededRandom } from '../../harness/seeded-random.js';

type Reader = typeof readJsonArray;
interface Options {
  maxRecordBytes?: number;
  source?: string;
}

/** 0 means the whole input as one chunk. */
const CHUNK_SIZES = [1, 2, 3, 7, 0];

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  const step = size || bytes.length || 1;
  // Fresh copies, so a reader that kept a view of a reused buffer would be caught out.
  for (let i = 0; i < bytes.length; i += step) yield Buffer.from(bytes.subarray(i, i + step));
}

async function collect(read: Reader, input: string | Buffer, size: number, options?: Options) {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const records: JsonRecord[] = [];
  let batches = 0;
  for await (const batch of read(chunked(bytes, size), options)) {
    expect(batch.length).toBeGreaterThan(0);
    batches++;
    records.push(...batch);
  }
  return { records, batches };
}

/** Reads `input` at every chunk size, checks they all agree, and returns the records. */
async function readAll(read: Reader, input: string | Buffer, options?: Options): Promise<JsonRecord[]> {
  const whole = (await collect(read, input, 0, options)).records;
  for (const size of CHUNK_SIZES) {
    const { records } = await collect(read, input, size, options);
    expect(records, `chunk size ${size}`).toEqual(whole);
  }
  return whole;
}

/** Expects every chunk size to fail with the same FormatError; returns it and the records before it. */
async function readError(read: Reader, input: string | Buffer, options?: Options) {
  let first: { error: FormatError; records: JsonRecord[] } | undefined;
  for (const size of CHUNK_SIZES) {
    const records: JsonRecord[] = [];
    const bytes = typeof input === 'string' ? Buffer.from(input) : input;
    let caught: unknown;
    try {
      for await (const batch of read(chunked(bytes, size), options)) records.push(...batch);
    } catch (error) {
      caught = error;
    }
    expect(caught, `chunk size ${size}`).toBeInstanceOf(FormatError);
    const error = caught as FormatError;
    if (first === undefined) first = { error, records };
    else {
      expect({ code: error.code, message: error.message }, `chunk size ${size}`).toEqual({
        code: first.error.code,
        message: first.error.message,
      });
      expect(records, `chunk size ${size}`).toEqual(first.records);
    }
  }
  return first!;
}

const values = (records: JsonRecord[]) => records.map((r) => r.value);
const lines = (records: JsonRecord[]) => records.map((r) => r.line);

/** A JSON leaf value drawn from `random`: short strings (quotes and non-ASCII too), numbers, null, booleans. */
function randomLeaf(random: () => number): unknown {
  const r = random();
  if (r < 0.3) return ['a', 'é😀', '"q"', ' ', ''][Math.floor(random() * 5)];
  if (r < 0.6) return Math.round(random() * 1e6) / 100;
  return r < 0.8 ? null : random() < 0.5;
}

describe('readJsonArray', () => {
  it('reads nested values, tricky strings and multi-byte characters at every chunk boundary', async () => {
    const doc = [
      { a: [1, [2, [3, { b: '[]{}' }]]], c: { d: { e: null } } },
      [[], {}, [{}], '],['],
      'a "quoted" \\ backslash \\" and \\\\',
      'unicode \u00e9\u4e2d\u6587 \ud83d\ude00 and a literal \\u0041',
      { 'key with ] and }': 'value with , and [', '\u00fcml\u00e4ut': '\u00e7a' },
      -12.5e3,
      true,
      false,
      null,
      '',
      0,
    ];
    const text = JSON.stringify(doc);
    const records = await readAll(readJsonArray, text);
    expect(values(records)).toEqual(JSON.parse(text));
    expect(records.map((r) => r.record)).toEqual(doc.map((_, k) => k + 1));
    expect(lines(records).every((l) => l === 1)).toBe(true);
  });

  it('keeps escapes intact: \\u escapes, escaped quotes and trailing backslashes', async () => {
    const text = String.raw`["\u0041\u00e9\ud83d\ude00", "\"", "\\", "\\\"", "a\\", {"\\":"\""}]`;
    const records = await readAll(readJsonArray, text);
    expect(values(records)).toEqual(['A\u00e9\ud83d\ude00', '"', '\\', '\\"', 'a\\', { '\\': '"' }]);
  });

  it('splits raw multi-byte UTF-8 across chunks', async () => {
    const text = '["\u00e9\u00e9\u00e9", {"\u65e5\u672c": "\ud83d\ude00\ud83d\ude01"}, "\u20ac"]';
    expect(Buffer.byteLength(text)).toBeGreaterThan(text.length);
    const records = await readAll(readJsonArray, text);
    expect(values(records)).toEqual(JSON.parse(text));
  });

  it('gives each element the line it starts on in a pretty-printed array', async () => {
    const text = JSON.stringify([{ a: 1, b: [1, 2] }, 'x', { c: { d: 1 } }, [], 5], null, 2);
    // [            line 1
    //   {          line 2 .. 8
    //   "x",       line 9
    //   {          line 10 .. 14
    //   [],        line 15
    //   5          line 16
    const records = await readAll(readJsonArray, text);
    expect(lines(records)).toEqual([2, 9, 10, 15, 16]);
    expect(values(records)).toEqual(JSON.parse(text));
  });

  it('handles CRLF line endings and a BOM', async () => {
    const text = `\ufeff[\r\n  {"a": 1},\r\n\r\n  {"a": 2}\r\n]\r\n`;
    const records = await readAll(readJsonArray, text);
    expect(records).toEqual([
      { value: { a: 1 }, record: 1, line: 2 },
      { value: { a: 2 }, record: 2, line: 4 },
    ]);
  });

  it('reads elements that span many chunks and many lines', async () => {
    const big = { text: 'x'.repeat(5000), list: Array.from({ length: 300 }, (_, k) => ({ k })) };
    const text = `[\n${JSON.stringify(big, null, 1)},\n"after"\n]`;
    const records = await readAll(readJsonArray, text);
    expect(values(records)).toEqual([big, 'after']);
    expect(records[1]!.line).toBe(text.split('\n').indexOf('"after"') + 1);
  });

  it('yields nothing for an empty array, empty input or whitespace only', async () => {
    for (const text of ['[]', ' [ \n ] \n', '', '   \n\t\r\n', '\ufeff', '\ufeff[]']) {
      expect(await readAll(readJsonArray, text), JSON.stringify(text)).toEqual([]);
    }
  });

  it('reads a top-level object as a single record', async () => {
    const text = '\n\n  {"a": [1, 2], "b": {"c": "]"}}\n';
    const records = await readAll(readJsonArray, text);
    expect(records).toEqual([{ value: { a: [1, 2], b: { c: ']' } }, record: 1, line: 3 }]);
  });

  it('batches the records of a chunk together', async () => {
    const text = JSON.stringify(Array.from({ length: 1000 }, (_, k) => ({ k })));
    const { records, batches } = await collect(readJsonArray, text, 0);
    expect(records).toHaveLength(1000);
    expect(batches).toBe(1);
  });

  it('rejects a truncated array, naming the element and its line', async () => {
    const { error, records } = await readError(readJsonArray, '[\n{"a": 1},\n{"a": 2},\n{"a": [3,\n', {
      source: 'data.json',
    });
    expect(error.code).toBe('invalid_json');
    expect(error.message).toBe(
      'data.json, line 4: the JSON array is not closed: the file ends inside element 3, which starts here. Was the file truncated?',
    );
    expect(error.location).toMatchObject({ source: 'data.json', line: 4, record: 3 });
    expect(values(records)).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('rejects other truncations', async () => {
    for (const text of ['[', '[1,', '[1, 2', '["abc', '{"a": 1', '[{"a": "]"}']) {
      const { error } = await readError(readJsonArray, text);
      expect(error.code, text).toBe('invalid_json');
      expect(error.message, text).toMatch(/not closed.*truncated\?/);
    }
  });

  it('rejects trailing garbage after the closing bracket', async () => {
    const { error, records } = await readError(readJsonArray, '[1, 2]\n\nxyz');
    expect(error.code).toBe('invalid_json');
    expect(error.message).toMatch(/^line 3: unexpected "x" after the end of the JSON array/);
    expect(values(records)).toEqual([1, 2]);
    expect((await readError(readJsonArray, '[1]]')).error.message).toMatch(/unexpected "]"/);
  });

  it('points NDJSON read as a JSON array towards the ndjson format', async () => {
    const { error, records } = await readError(readJsonArray, '{"a": 1}\n{"a": 2}\n');
    expect(error.message).toMatch(
      /^line 2: unexpected "\{" after the end of the JSON object.*format: ndjson/,
    );
    expect(values(records)).toEqual([{ a: 1 }]);
  });

  it('rejects an element that is not valid JSON, after yielding the ones before it', async () => {
    const { error, records } = await readError(readJsonArray, '[\n{"a": 1},\n{"a": tru},\n{"a": 3}\n]');
    expect(error.code).toBe('invalid_json');
    expect(error.message).toMatch(/^line 3: element 2 of the JSON array is not valid JSON \(.+\)\. Fix/);
    expect(error.location).toMatchObject({ line: 3, record: 2 });
    expect(values(records)).toEqual([{ a: 1 }]);
  });

  it('rejects missing commas, trailing commas, empty elements and unbalanced brackets', async () => {
    const cases: [string, RegExp][] = [
      ['[{"a":1} {"b":2}]', /element 1 of the JSON array is not valid JSON/],
      ['[1, 2,]', /trailing comma after element 2/],
      ['[1,,2]', /empty element 2/],
      ['[,1]', /empty element 1/],
      ['[{"a": 1}}]', /element 1 of the JSON array is not valid JSON/],
      ['[{"a": [1}]', /not closed/],
    ];
    for (const [text, message] of cases) {
      const { error } = await readError(readJsonArray, text);
      expect(error.code, text).toBe('invalid_json');
      expect(error.message, text).toMatch(message);
    }
  });

  it('rejects a top level that is neither an array nor an object', async () => {
    for (const text of ['42', '"text"', 'null', '\n  x']) {
      const { error } = await readError(readJsonArray, text);
      expect(error.code, text).toBe('invalid_json');
      expect(error.message, text).toMatch(/the file is not a JSON array: it starts with/);
    }
    expect((await readError(readJsonArray, '\n\n12')).error.message).toMatch(/^line 3: .*starts with "1"/);
  });

  it('rejects an element larger than maxRecordBytes, naming it, whether or not it spans chunks', async () => {
    const text = `[\n"short",\n"${'y'.repeat(40)}",\n"never read"\n]`;
    const { error, records } = await readError(readJsonArray, text, { maxRecordBytes: 20 });
    expect(error.code).toBe('record_too_large');
    expect(error.message).toMatch(/^line 3: element 2 of the JSON array is larger than 20 bytes/);
    expect(values(records)).toEqual(['short']);
    const object = await readError(readJsonArray, `{"a": "${'y'.repeat(40)}"}`, { maxRecordBytes: 20 });
    expect(object.error.code).toBe('record_too_large');
    expect(object.error.message).toMatch(/the JSON object is larger than 20 bytes/);
  });

  it('stops buffering an oversized element before it ends', async () => {
    async function* endless(): AsyncGenerator<Buffer> {
      yield Buffer.from('["');
      for (;;) yield Buffer.alloc(64 * 1024, 0x61);
    }
    await expect(async () => {
      for await (const _ of readJsonArray(endless(), { maxRecordBytes: 1024 * 1024 })) {
        // nothing is ever complete
      }
    }).rejects.toMatchObject({ code: 'record_too_large', message: /element 1 .* larger than 1 MiB/ });
  });

  it('rejects invalid UTF-8 inside an element, naming the line', async () => {
    const bytes = Buffer.concat([
      Buffer.from('[\n"ok",\n"bad '),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"\n]'),
    ]);
    const { error, records } = await readError(readJsonArray, bytes);
    expect(error.code).toBe('invalid_utf8');
    expect(error.message).toMatch(/^line 3: element 2 of the JSON array is not valid UTF-8/);
    expect(values(records)).toEqual(['ok']);
  });

  it('agrees with JSON.parse on random documents split at random boundaries', async () => {
    const random = seededRandom(42);
    const pieces = ['a', '"', '\\', '[', ']', '{', '}', ',', '\n', '\u00e9', '\ud83d\ude00', ' '];
    const randomValue = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.3) {
        return Array.from(
          { length: Math.floor(random() * 6) },
          () => pieces[Math.floor(random() * pieces.length)],
        ).join('');
      }
      if (r < 0.4) return Math.round(random() * 1e6) / 100;
      if (r < 0.7) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 4) }, (_, k) => [
          `k${k}${randomValue(9)}`,
          randomValue(depth + 1),
        ]),
      );
    };
    for (let doc = 0; doc < 50; doc++) {
      const value = Array.from({ length: Math.floor(random() * 8) }, () => randomValue(0));
      const bytes = Buffer.from(JSON.stringify(value, null, doc % 2 === 0 ? 2 : undefined));
      const expected = JSON.parse(bytes.toString()) as unknown[];
      for (let trial = 0; trial < 5; trial++) {
        const size = 1 + Math.floor(random() * 40);
        const { records } = await collect(readJsonArray, bytes, size);
        expect(values(records)).toEqual(expected);
      }
    }
  });

  it('reads what JSON.parse reads of 2,000 randomly damaged arrays, and refuses what it refuses', async () => {
    const random = seededRandom(7907);
    const damage = Buffer.from('[]{}",:\\ 0123456789.eE+-tfnul\n\t');
    const leaf = () => randomLeaf(random);
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 2 || r < 0.5) return leaf();
      if (r < 0.75) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 4) }, (_, k) => [`k${k}`, value(depth + 1)]),
      );
    };
    let agreed = 0;
    let refused = 0;
    for (let doc = 0; doc < 40; doc++) {
      const original = Buffer.from(
        JSON.stringify(
          Array.from({ length: 1 + Math.floor(random() * 6) }, () => value(0)),
          null,
          doc % 2 ? 2 : undefined,
        ),
      );
      for (let round = 0; round < 50; round++) {
        const bytes = Buffer.from(original);
        for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) {
          bytes[Math.floor(random() * bytes.length)] = damage[Math.floor(random() * damage.length)] as number;
        }
        const cut = random() < 0.2 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
        const size = 1 + Math.floor(random() * 40);
        let expected: unknown;
        try {
          expected = JSON.parse(cut.toString('utf8'));
        } catch {
          expected = undefined;
        }
        let read: unknown[] | undefined;
        try {
          read = values((await collect(readJsonArray, cut, size)).records);
        } catch (error) {
          expect(error).toBeInstanceOf(FormatError);
        }
        if (cut.toString('utf8').trim() === '') {
          // An empty file is a file of no records, where JSON.parse sees no document at all.
          expect(read).toEqual([]);
        } else if (expected === undefined || !Array.isArray(expected)) {
          expect(read, cut.toString('utf8')).toBeUndefined();
          refused++;
        } else if (read !== undefined) {
          expect(read).toEqual(expected);
          agreed++;
        }
        // Else it refused bytes JSON.parse read only after replacing what is not UTF-8 (a damaged é or 😀).
      }
    }
    expect(agreed).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(1_000);
  });

  it('streams a 50 MB array in bounded memory', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const used = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const total = 50 * 1024 * 1024;
    async function* generate(): AsyncGenerator<Buffer> {
      yield Buffer.from('[');
      let produced = 0;
      let id = 0;
      while (produced < total) {
        let text = '';
        while (text.length < 64 * 1024) {
          text += `${id === 0 ? '' : ','}{"id":${id},"name":"customer ${id}","tags":["a","b"],"score":${id % 100}}\n`;
          id++;
        }
        produced += text.length;
        yield Buffer.from(text);
      }
      yield Buffer.from(']');
    }
    const baseline = used();
    let peak = 0;
    let count = 0;
    let last: unknown;
    let batches = 0;
    for await (const batch of readJsonArray(generate())) {
      count += batch.length;
      last = batch[batch.length - 1]!.value;
      if (++batches % 50 === 0) peak = Math.max(peak, used() - baseline);
    }
    expect(count).toBeGreaterThan(500_000);
    expect(last).toMatchObject({ id: count - 1 });
    expect(peak).toBeLessThan(40 * 1024 * 1024);
  });
});

describe('readNdjson', () => {
  it('each line of 1,000 randomly damaged NDJSON files is what JSON.parse reads of it, or a syntax issue where it refuses', async () => {
    const random = seededRandom(1013);
    const damage = Buffer.from('[]{}",:\\ 0123456789.eE+-tfnul\n\r\t');
    const leaf = () => randomLeaf(random);
    let agreed = 0;
    let issues = 0;
    for (let file = 0; file < 25; file++) {
      const lines = Array.from({ length: 12 }, () =>
        JSON.stringify({ a: leaf(), b: [leaf(), { c: leaf() }] }),
      );
      const original = Buffer.from(`${lines.join(file % 2 ? '\r\n' : '\n')}\n`);
      for (let round = 0; round < 40; round++) {
        const bytes = Buffer.from(original);
        for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) {
          bytes[Math.floor(random() * bytes.length)] = damage[Math.floor(random() * damage.length)] as number;
        }
        const text = bytes.toString('utf8');
        // A damaged multibyte character is the reader's own refusal (not UTF-8), which JSON.parse cannot show.
        if (text.includes('\uFFFD')) continue;
        const expected = text.split(/\r?\n/).filter((line) => line.trim() !== '');
        const read = values((await collect(readNdjson, bytes, 1 + Math.floor(random() * 50))).records);
        expect(read).toHaveLength(expected.length);
        for (const [k, line] of expected.entries()) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(line);
          } catch {
            expect(read[k], line).toBeInstanceOf(JsonSyntaxIssue);
            issues++;
            continue;
          }
          expect(read[k], line).toEqual(parsed);
          agreed++;
        }
      }
    }
    expect(agreed).toBeGreaterThan(5_000);
    expect(issues).toBeGreaterThan(500);
  });

  it('reads one value per line, skipping blank lines, with LF, CRLF and a BOM', async () => {
    const text = '\ufeff{"a": 1}\n\n   \r\n[1, "\u00e9\ud83d\ude00"]\r\n\t\n"x"\r\n42\nnull';
    const records = await readAll(readNdjson, text);
    expect(records).toEqual([
      { value: { a: 1 }, record: 1, line: 1 },
      { value: [1, '\u00e9\ud83d\ude00'], record: 2, line: 4 },
      { value: 'x', record: 3, line: 6 },
      { value: 42, record: 4, line: 7 },
      { value: null, record: 5, line: 8 },
    ]);
  });

  it('yields nothing for empty or blank input', async () => {
    for (const text of ['', '\n\n', '  \r\n\t', '\ufeff', '\ufeff\n']) {
      expect(await readAll(readNdjson, text), JSON.stringify(text)).toEqual([]);
    }
  });

  it('yields a JsonSyntaxIssue for a line that is not JSON and carries on', async () => {
    const text = '{"a": 1}\n\n{"a": tru}\r\n{"a": 3}\n';
    const records = await readAll(readNdjson, text);
    expect(records.map((r) => [r.record, r.line])).toEqual([
      [1, 1],
      [2, 3],
      [3, 4],
    ]);
    const issue = records[1]!.value;
    expect(issue).toBeInstanceOf(JsonSyntaxIssue);
    expect((issue as JsonSyntaxIssue).raw).toBe('{"a": tru}');
    expect((issue as JsonSyntaxIssue).reason).toMatch(
      /^not valid JSON \(.+\)\. Each line of an NDJSON file must be one JSON value\.$/,
    );
    expect(records[2]!.value).toEqual({ a: 3 });
  });

  it('truncates the raw text of a bad line to 200 characters', async () => {
    const records = await readAll(readNdjson, `{"a": ${'9'.repeat(500)}x}\n`);
    const issue = records[0]!.value as JsonSyntaxIssue;
    expect(issue.raw).toBe(`{"a": ${'9'.repeat(194)}`);
  });

  it('yields a JsonSyntaxIssue for a line that is not UTF-8', async () => {
    const bytes = Buffer.concat([
      Buffer.from('"ok"\n"bad '),
      Buffer.from([0xff]),
      Buffer.from('"\n"\u00e9"\n'),
    ]);
    const records = await readAll(readNdjson, bytes);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3]);
    expect(records[1]!.value).toEqual(new JsonSyntaxIssue('invalid UTF-8', '"bad \ufffd"'));
    expect(records[2]!.value).toBe('\u00e9');
  });

  it('rejects a line larger than maxRecordBytes, naming the record and line', async () => {
    const text = `"short"\n\n"${'y'.repeat(40)}"\n"never"\n`;
    const { error, records } = await readError(readNdjson, text, { maxRecordBytes: 20, source: 'x.ndjson' });
    expect(error.code).toBe('record_too_large');
    expect(error.message).toMatch(/^x\.ndjson, line 3: record 2 is larger than 20 bytes/);
    expect(values(records)).toEqual(['short']);
  });

  it('stops buffering an oversized line before it ends', async () => {
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) yield Buffer.alloc(64 * 1024, 0x61);
    }
    await expect(async () => {
      for await (const _ of readNdjson(endless(), { maxRecordBytes: 1024 * 1024 })) {
        // nothing is ever complete
      }
    }).rejects.toMatchObject({ code: 'record_too_large', message: /line 1: record 1 is larger than 1 MiB/ });
  });
});
