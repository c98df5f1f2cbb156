/**
 * The run-length runs of a data page, walked before hyparquet decodes the page. A run's header says how many
 * values it holds, and hyparquet 1.33.0 writes them all (readRle in its encoding.js) into an array sized for
 * the page: six bytes of a 300-row file, claiming 2^30 values, grew that array until V8 stopped the whole
 * process (a fatal out-of-memory error, which no catch sees), the upload service's included
 * (test/unit/formats/parquet-page-runs.test.ts).
 *
 * The walk reads each section of a page exactly as hyparquet's readDataPage and readDataPageV2 do (the
 * repetition levels, the definition levels, then the dictionary indexes or RLE booleans) and refuses a page
 * where a run claims more values than its section has left. A run of bit-packed values is padded to a
 * multiple of eight, so it may pass the count by up to seven; its count is never negative.
 *
 * Where the bytes run out, the walk stops: hyparquet then fails on its own read past the end, which the
 * reader reports as a damaged row group.
 */
import type { Compressors, PageHeader } from 'hyparquet';
import { decompressPage } from 'hyparquet/src/datapage.js';

/** What the walk needs of a column chunk, as hyparquet reads it. */
export interface PageColumn {
  /** Its dotted path, for messages. */
  readonly path: string;
  readonly maxRepetition: number;
  readonly maxDefinition: number;
  /** Its physical type (BOOLEAN's RLE values carry no bit width byte). */
  readonly type: string;
  readonly codec: string;
  readonly compressors: Compressors;
}

/** Where the walk is in a page's bytes. */
interface Cursor {
  readonly view: DataView;
  offset: number;
}

/** Thrown by the walk with the reason; page-bounds.ts lets it through as a damaged row group. */
export class RunOverflow extends Error {}

const DICTIONARY_ENCODINGS = new Set(['PLAIN_DICTIONARY', 'RLE_DICTIONARY', 'RLE']);

/** Checks the runs of one data page: `compressed` is the page's bytes after its header. */
export function checkPageRuns(compressed: Uint8Array, header: PageHeader, column: PageColumn): void {
  if (header.type === 'DATA_PAGE' && header.data_page_header !== undefined) {
    checkV1(compressed, header, column);
  } else if (header.type === 'DATA_PAGE_V2' && header.data_page_header_v2 !== undefined) {
    checkV2(compressed, header, column);
  }
}

/** A version 1 page: all of it compressed, each level section prefixed with its length (readDataPage). */
function checkV1(compressed: Uint8Array, header: PageHeader, column: PageColumn): void {
  const page = decompressPage(
    compressed,
    Number(header.uncompressed_page_size),
    column.codec as never,
    column.compressors,
  );
  const cursor = cursorOver(page);
  const daph = header.data_page_header as NonNullable<PageHeader['data_page_header']>;
  const values = daph.num_values;
  if (column.maxRepetition > 0) {
    walk(cursor, bitWidth(column.maxRepetition), values, undefined, column, 'repetition levels');
  }
  if (column.maxDefinition > 0) {
    walk(cursor, bitWidth(column.maxDefinition), values, undefined, column, 'definition levels');
  }
  if (!DICTIONARY_ENCODINGS.has(daph.encoding)) return;
  // hyparquet sizes the values' array by the non-null count, which the levels give; the page's count of
  // values is its upper bound, and what the walk holds runs to.
  if (column.type === 'BOOLEAN') {
    walk(cursor, 1, values, undefined, column, 'values');
    return;
  }
  const width = byteAt(cursor);
  if (width === undefined || width === 0) return;
  walk(cursor, width, values, page.byteLength - cursor.offset, column, 'values');
}

/** A version 2 page: the levels first and never compressed, their lengths in the header (readDataPageV2). */
function checkV2(compressed: Uint8Array, header: PageHeader, column: PageColumn): void {
  const daph2 = header.data_page_header_v2 as NonNullable<PageHeader['data_page_header_v2']>;
  const values = daph2.num_values;
  const repetitionBytes = daph2.repetition_levels_byte_length;
  const definitionBytes = daph2.definition_levels_byte_length;
  const cursor = cursorOver(compressed);
  if (column.maxRepetition > 0) {
    walk(cursor, bitWidth(column.maxRepetition), values, repetitionBytes, column, 'repetition levels');
  }
  cursor.offset = repetitionBytes;
  if (column.maxDefinition > 0) {
    walk(cursor, bitWidth(column.maxDefinition), values, definitionBytes, column, 'definition levels');
  }
  if (!DICTIONARY_ENCODINGS.has(daph2.encoding)) return;
  const levels = repetitionBytes + definitionBytes;
  const size = Number(header.uncompressed_page_size) - levels;
  let page = compressed.subarray(levels);
  if (daph2.is_compressed !== false && size) {
    page = decompressPage(page, size, column.codec as never, column.compressors);
  }
  const valueCursor = cursorOver(page);
  const nonNull = values - daph2.num_nulls;
  if (daph2.encoding === 'RLE') {
    walk(valueCursor, 1, nonNull, undefined, column, 'values');
    return;
  }
  const width = byteAt(valueCursor);
  if (width === undefined) return;
  walk(valueCursor, width, nonNull, size - 1, column, 'values');
}

/**
 * One section of RLE / bit-packed hybrid runs, as readRleBitPackedHybrid reads it: `expected` values, the
 * section's length read from a 4-byte prefix when `length` is undefined. Leaves the cursor where hyparquet
 * leaves its reader (the section's start plus its length).
 */
function walk(
  cursor: Cursor,
  width: number,
  expected: number,
  length: number | undefined,
  column: PageColumn,
  section: string,
): void {
  let size = length;
  if (size === undefined) {
    if (cursor.offset + 4 > cursor.view.byteLength) return;
    size = cursor.view.getUint32(cursor.offset, true);
    cursor.offset += 4;
  }
  const start = cursor.offset;
  let seen = 0;
  while (seen < expected) {
    const header = varInt(cursor);
    if (header === undefined) return;
    const left = expected - seen;
    if (header & 1) {
      // hyparquet's own 32-bit arithmetic: a header read from more than five bytes can make it negative.
      const count = (header >> 1) << 3;
      if (count < 0 || count > left + 7) {
        throw new RunOverflow(
          `a run of ${count} bit-packed ${section} in column "${column.path}" where ${left} remain`,
        );
      }
      seen = Math.min(expected, seen + count);
      cursor.offset += Math.max(1, Math.ceil((count * width) / 8));
    } else {
      const count = header >>> 1;
      if (count > left) {
        throw new RunOverflow(`a run of ${count} ${section} in column "${column.path}" where ${left} remain`);
      }
      seen += count;
      cursor.offset += (width + 7) >> 3;
    }
    if (cursor.offset > cursor.view.byteLength) return;
  }
  cursor.offset = start + size;
}

/** hyparquet's readVarInt, bit for bit; undefined where the bytes end (hyparquet's read throws there). */
function varInt(cursor: Cursor): number | undefined {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = byteAt(cursor);
    if (byte === undefined) return undefined;
    result |= (byte & 0x7f) << shift;
    if (!(byte & 0x80)) return result;
    shift += 7;
  }
}

function byteAt(cursor: Cursor): number | undefined {
  if (cursor.offset >= cursor.view.byteLength) return undefined;
  return cursor.view.getUint8(cursor.offset++);
}

function cursorOver(bytes: Uint8Array): Cursor {
  return { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
}

/** The bits a level up to `value` takes (hyparquet's bitWidth). */
function bitWidth(value: number): number {
  return 32 - Math.clz32(value);
}
