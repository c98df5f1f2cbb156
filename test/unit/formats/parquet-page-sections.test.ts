/**
 * The sections of a data page whose headers hyparquet trusts are walked before it decodes the page
 * (src/formats/parquet/page-sections.ts), and a page they would take the process with is refused:
 * - a run of RLE values claiming more values than the page has left. Without the check, the six bytes these
 *   tests write (a run of 2^30 values) make hyparquet grow an array until V8 ends the whole process with a
 *   fatal out-of-memory error, about three seconds in: this file's worker dies and the run fails;
 * - a DELTA block with no values or no miniblocks, and a negative count of bit-packed values of width 0.
 *   Without the check these keep hyparquet in a loop for ever, and the run stalls until its own limit stops it.
 *
 * The files are small and hold every kind of section hyparquet walks: repetition and definition levels of a
 * LIST column, definition levels of optional columns, dictionary indexes, DELTA blocks of numbers, lengths
 * and prefixes; in data pages of version 2 (hyparquet-writer) and of version 1 (arrow-rs, as pyarrow and
 * Spark write them).
 */
import type { PageHeader } from 'hyparquet';
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../../src/errors.js';
import {
  arrowRewritten,
  flat,
  int64Ids,
  parquetFile,
  readEveryRow,
  textList,
} from '../../harness/parquet.js';
import { seededRandom } from '../../harness/seeded-random.js';

const ROWS = 300;

/** An RLE run header claiming 2^30 values (the varint of 2^31), then its one-byte value. */
const HUGE_RUN = [0x80, 0x80, 0x80, 0x80, 0x08, 0x01];

function version2(codec: 'UNCOMPRESSED' | 'SNAPPY' = 'UNCOMPRESSED'): Buffer {
  return parquetFile(
    {
      id: int64Ids(ROWS),
      tags: textList(
        'tags',
        Array.from({ length: ROWS }, (_, i) =>
          i % 5 === 0 ? null : Array.from({ length: i % 4 }, (_, k) => (k === 1 ? null : `tag ${k}`)),
        ),
      ),
      // UINT_64 is left to hyparquet whatever the rest, as a LIST column is.
      big: flat(
        'big',
        { type: 'INT64', converted_type: 'UINT_64' },
        Array.from({ length: ROWS }, (_, i) => (i % 3 === 0 ? null : BigInt(i))),
      ),
    },
    { codec },
  );
}

/** Columns in each of hyparquet's DELTA encodings, with nulls; the LIST column makes hyparquet decode them all. */
function deltaVersion2(): Buffer {
  return parquetFile(
    {
      id: {
        ...flat(
          'id',
          { type: 'INT32' },
          Array.from({ length: ROWS }, (_, i) => i * 7 - 1000),
          false,
        ),
        encoding: 'DELTA_BINARY_PACKED',
      },
      big: {
        ...flat(
          'big',
          { type: 'INT64', converted_type: 'UINT_64' },
          Array.from({ length: ROWS }, (_, i) => (i % 3 === 0 ? null : BigInt(i) * 1_000_003n)),
        ),
        encoding: 'DELTA_BINARY_PACKED',
      },
      name: {
        ...flat(
          'name',
          { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
          Array.from({ length: ROWS }, (_, i) => (i % 4 === 0 ? null : `name ${i}`)),
        ),
        encoding: 'DELTA_LENGTH_BYTE_ARRAY',
      },
      label: {
        ...flat(
          'label',
          { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
          Array.from({ length: ROWS }, (_, i) => (i % 6 === 0 ? null : `a shared prefix ${i % 40}`)),
        ),
        encoding: 'DELTA_BYTE_ARRAY',
      },
      tags: textList(
        'tags',
        Array.from({ length: ROWS }, (_, i) => (i % 5 === 0 ? null : [`tag ${i % 3}`])),
      ),
    },
    { codec: 'UNCOMPRESSED' },
  );
}

const DELTA_COLUMNS = {
  id: 'DELTA_BINARY_PACKED',
  big: 'DELTA_BINARY_PACKED',
  name: 'DELTA_LENGTH_BYTE_ARRAY',
  label: 'DELTA_BYTE_ARRAY',
} as const;

interface DataPage {
  /** The column's dotted path. */
  readonly path: string;
  readonly header: PageHeader;
  /** Where the page's bytes (after its header) start in the file. */
  readonly at: number;
}

/** The data pages of the file's first row group, in file order. */
function dataPages(bytes: Buffer): DataPage[] {
  const metadata = parquetMetadata(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
  );
  const pages: DataPage[] = [];
  for (const chunk of metadata.row_groups[0]?.columns ?? []) {
    const meta = chunk.meta_data;
    if (meta === undefined) continue;
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
    const end = start + Number(meta.total_compressed_size);
    const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length), offset: start };
    while (reader.offset < end) {
      const header = parquetHeader(reader);
      if (header.type !== 'DICTIONARY_PAGE') {
        pages.push({ path: meta.path_in_schema.join('.'), header, at: reader.offset });
      }
      reader.offset += header.compressed_page_size;
    }
  }
  return pages;
}

/** Where the header of a column's first data page starts (a chunk without a dictionary page). */
function dataPageOffset(bytes: Buffer, column: string): number {
  const metadata = parquetMetadata(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
  );
  const chunk = metadata.row_groups[0]?.columns.find((c) => c.meta_data?.path_in_schema.join('.') === column);
  return Number(chunk?.meta_data?.data_page_offset);
}

/** An unsigned varint's bytes. */
function varintBytes(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return bytes;
}

/**
 * Where each run-length section of an uncompressed data page starts (its first run's header), by name:
 * the repetition levels, the definition levels, and the dictionary indexes (after their bit width byte).
 */
function sections(bytes: Buffer, page: DataPage): Map<string, number> {
  const found = new Map<string, number>();
  const v2 = page.header.data_page_header_v2;
  if (v2 !== undefined) {
    const rep = v2.repetition_levels_byte_length;
    const def = v2.definition_levels_byte_length;
    if (rep > 0) found.set('repetition levels', page.at);
    if (def > 0) found.set('definition levels', page.at + rep);
    if (v2.encoding.endsWith('DICTIONARY')) found.set('values', page.at + rep + def + 1);
    if (v2.encoding.startsWith('DELTA')) found.set('values', page.at + rep + def);
    return found;
  }
  // Version 1: each level section is prefixed with its length in 4 bytes.
  let at = page.at;
  const hasRepetition = page.path.startsWith('tags.');
  const hasDefinition = page.path !== 'id';
  if (hasRepetition) {
    found.set('repetition levels', at + 4);
    at += 4 + bytes.readUInt32LE(at);
  }
  if (hasDefinition) {
    found.set('definition levels', at + 4);
    at += 4 + bytes.readUInt32LE(at);
  }
  const encoding = page.header.data_page_header?.encoding ?? '';
  if (encoding.endsWith('DICTIONARY')) found.set('values', at + 1);
  if (encoding.startsWith('DELTA')) found.set('values', at);
  return found;
}

/** Every row of every column read through, or the reader's error. */
function readAll(bytes: Buffer): Promise<number | FormatError> {
  return readEveryRow(bytes, 'crafted.parquet');
}

/** One crafted copy per run-length section of every data page: a run of 2^30 values written at its start. */
function* crafted(bytes: Buffer): Generator<{ where: string; bytes: Buffer }> {
  for (const page of dataPages(bytes)) {
    for (const [section, at] of sections(bytes, page)) {
      const copy = Buffer.from(bytes);
      copy.set(HUGE_RUN, at);
      yield { where: `${page.path}, ${section}`, bytes: copy };
    }
  }
}

describe('sections of Parquet data pages', async () => {
  const files: Record<string, Buffer> = {
    'version 2 pages (hyparquet-writer)': version2(),
    'version 1 pages (arrow-rs)': await arrowRewritten(version2(), {
      codec: 'UNCOMPRESSED',
      dictionary: true,
    }),
    'version 1 pages, no dictionary (arrow-rs)': await arrowRewritten(version2(), {
      codec: 'UNCOMPRESSED',
      dictionary: false,
    }),
  };

  const deltaFiles: Record<string, Buffer> = {
    'DELTA values in version 2 pages (hyparquet-writer)': deltaVersion2(),
    'DELTA values in version 1 pages (arrow-rs)': await arrowRewritten(deltaVersion2(), {
      codec: 'UNCOMPRESSED',
      dictionary: true,
      encodings: DELTA_COLUMNS,
    }),
  };

  it.each([...Object.keys(files), ...Object.keys(deltaFiles)])(
    'the file with %s reads every row',
    async (name) => {
      expect(await readAll((files[name] ?? deltaFiles[name]) as Buffer)).toBe(ROWS);
    },
  );

  it.each(Object.keys(deltaFiles))('the %s are written as the test means', async (name) => {
    const encodings = new Map(
      dataPages(deltaFiles[name] as Buffer).map((page) => [
        page.path,
        page.header.data_page_header?.encoding ?? page.header.data_page_header_v2?.encoding,
      ]),
    );
    for (const [column, encoding] of Object.entries(DELTA_COLUMNS))
      expect(encodings.get(column)).toBe(encoding);
  });

  it.each(Object.keys(deltaFiles))(
    'a DELTA block whose values per miniblock are negative is refused (hyparquet would loop for ever): %s',
    async (name) => {
      const bytes = deltaFiles[name] as Buffer;
      let crafted = 0;
      for (const page of dataPages(bytes)) {
        const at = sections(bytes, page).get('values');
        if (at === undefined || !page.path.match(/^(id|big|name|label)$/)) continue;
        // -2 values in 1 miniblock, a count and a first value; then a block whose least delta and bit width 8
        // take hyparquet's offset back onto that same least delta: (-2 x 8) / 8 bytes from its end.
        const copy = Buffer.from(bytes);
        copy.set([0xfe, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x0a, 0x00, 0x00, 0x08], at);
        const result = await readAll(copy);
        expect(result, page.path).toBeInstanceOf(FormatError);
        expect((result as FormatError).message, page.path).toMatch(
          new RegExp(
            `a DELTA block of (values|prefix lengths) in column "${page.path}" declares -2 values in 1 miniblocks`,
          ),
        );
        crafted++;
      }
      expect(crafted).toBe(4);
    },
  );

  it.each(Object.keys(files))(
    'a run claiming more values than its page has left is refused, in every section (%s)',
    async (name) => {
      const bytes = files[name] as Buffer;
      const cases = [...crafted(bytes)];
      // Each kind of section is there to be crafted: the walk is tested on all of them.
      expect(new Set(cases.map((c) => c.where.split(', ')[1]))).toEqual(
        new Set([
          'repetition levels',
          'definition levels',
          ...(name.includes('no dictionary') ? [] : ['values']),
        ]),
      );
      for (const { where, bytes: copy } of cases) {
        const result = await readAll(copy);
        expect(result, where).toBeInstanceOf(FormatError);
        expect((result as FormatError).code, where).toBe('corrupt_parquet');
        expect((result as FormatError).message, where).toMatch(/a run of 1073741824 .* where \d+ remain/);
      }
    },
  );

  it('a negative count of bit-packed indexes of width 0 is refused (hyparquet would loop for ever)', async () => {
    const bytes = files['version 2 pages (hyparquet-writer)'] as Buffer;
    const page = dataPages(bytes).find((p) => p.header.data_page_header_v2?.encoding.endsWith('DICTIONARY'));
    const at = sections(bytes, page as DataPage).get('values') as number;
    const copy = Buffer.from(bytes);
    // Bit width 0, then a header whose varint is -1: bit-packed, and (-1 >> 1) << 3 = -8 values.
    copy.set([0x00, 0xff, 0xff, 0xff, 0xff, 0x0f], at - 1);
    const result = await readAll(copy);
    expect(result).toBeInstanceOf(FormatError);
    expect((result as FormatError).message).toMatch(
      /a run of -8 bit-packed values in column "tags.list.element"/,
    );
  });

  it('a version 2 page header without its count of values is refused (hyparquet sized an array of one by it)', async () => {
    // Found by seeded damage: one byte turned the count's field header into the next field's, so the page
    // had no count of values, hyparquet's arrays were `new Array(undefined)`, and a run grew one of them.
    const bytes = files['version 2 pages (hyparquet-writer)'] as Buffer;
    const page = dataPages(bytes).find((p) => p.path === 'tags.list.element') as DataPage;
    const headerStart = dataPageOffset(bytes, 'tags.list.element');
    // The header's field 8 (the version 2 header, a struct: 0x5c) starts with its field 1 (an i32: 0x15).
    const header = bytes.subarray(headerStart, page.at);
    const struct = header.indexOf(Buffer.from([0x5c, 0x15]));
    expect(struct).toBeGreaterThan(0);
    const copy = Buffer.from(bytes);
    copy[headerStart + struct + 1] = 0x25; // field 2 in its place: every field after it moves up by one
    copy.set(HUGE_RUN, sections(bytes, page).get('definition levels') as number);
    const result = await readAll(copy);
    expect(result).toBeInstanceOf(FormatError);
    expect((result as FormatError).message).toMatch(
      /a page of column "tags.list.element" has no count of values/,
    );
  });

  describe.each(['GZIP', 'BROTLI'] as const)('a %s page whose header misstates its size', async (codec) => {
    const gzip = await arrowRewritten(version2(), { codec, dictionary: false });
    const page = dataPages(gzip).find((p) => p.path === 'id') as DataPage;
    /**
     * The copy with the page's uncompressed size set to `size`. The header starts with the page type (field 1:
     * 0x15, then 0 for DATA_PAGE) and its uncompressed size (field 2: 0x15, then a zigzag varint), which is
     * rewritten in place: `size` must take as many varint bytes as the size it replaces.
     */
    const withSize = (size: number) => {
      const headerStart = dataPageOffset(gzip, 'id');
      expect([...gzip.subarray(headerStart, headerStart + 3)]).toEqual([0x15, 0x00, 0x15]);
      const old = varintBytes(page.header.uncompressed_page_size * 2);
      const replacement = varintBytes(size * 2);
      expect(replacement.length).toBe(old.length);
      const copy = Buffer.from(gzip);
      expect([...copy.subarray(headerStart + 3, headerStart + 3 + old.length)]).toEqual(old);
      copy.set(replacement, headerStart + 3);
      return copy;
    };

    it('the file reads every row as written', async () => {
      expect(await readAll(gzip)).toBe(ROWS);
    });

    it('is inflated no further than the size its header declares', async () => {
      const result = await readAll(withSize(page.header.uncompressed_page_size / 2));
      expect(result).toBeInstanceOf(FormatError);
      // zlib's own refusal at the declared size, not hyparquet's check of a page already inflated whole.
      expect((result as FormatError).message).toMatch(/Cannot create a Buffer larger than \d+ bytes/);
    });

    it('is refused before it is inflated when it claims more than its whole column chunk', async () => {
      const result = await readAll(withSize(page.header.uncompressed_page_size + 1000));
      expect(result).toBeInstanceOf(FormatError);
      expect((result as FormatError).message).toMatch(
        /a page of column "id" is \d+ bytes uncompressed, more than its whole column chunk/,
      );
    });
  });

  it('seeded damage to the sections of every page is read or refused, never more', async () => {
    // Bytes overwritten at the starts of the sections only, where their headers are; seed printed to replay.
    const seed = 9173;
    const random = seededRandom(seed);
    for (const [name, bytes] of Object.entries({ ...files, ...deltaFiles })) {
      const spots = dataPages(bytes).flatMap((page) => [...sections(bytes, page).values()]);
      for (let round = 0; round < 300; round++) {
        const copy = Buffer.from(bytes);
        for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) {
          const spot = spots[Math.floor(random() * spots.length)] as number;
          copy[spot + Math.floor(random() * 6)] = Math.floor(random() * 256);
        }
        const result = await readAll(copy);
        if (typeof result === 'number') expect(result, `seed ${seed}, ${name}, round ${round}`).toBe(ROWS);
        else expect(result.code, `seed ${seed}, ${name}, round ${round}`).toBe('corrupt_parquet');
      }
    }
  });
});
