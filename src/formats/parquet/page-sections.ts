/**
 * The sections of a data page whose headers hyparquet 1.33.0 trusts, walked before it decodes the page.
 * Seeded damage and crafted bytes found two ways a few bytes could take a whole process
 * (test/unit/formats/parquet-page-sections.test.ts):
 * - **A run of RLE values** says how many values it holds, and hyparquet writes them all (readRle in its
 *   encoding.js) into an array sized for the page. Six bytes of a 300-row file, claiming 2^30 values, grew
 *   that array until V8 ended the process with a fatal error no catch sees: the CLI, a Lambda, the upload
 *   service and its drain alike.
 * - **A block of DELTA values** says how many miniblocks it has, and hyparquet moves its read offset by that
 *   count after each block (delta.js). A negative count moved it back onto the same bytes, for ever.
 *
 * The walk reads each section exactly as hyparquet's readDataPage and readDataPageV2 do (the repetition
 * levels, the definition levels, then the values' RLE runs or DELTA blocks) and refuses a page where a run
 * claims more values than its section has left (a bit-packed run, padded to a multiple of eight, may pass it
 * by up to seven), or a DELTA block has no values or no miniblocks.
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

const RUN_ENCODINGS = new Set(['PLAIN_DICTIONARY', 'RLE_DICTIONARY', 'RLE']);

/** Checks one data page's sections; throws a plain Error saying what is wrong. `compressed`: its bytes after its header. */
export function checkPageSections(compressed: Uint8Array, header: PageHeader, column: PageColumn): void {
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
    walkRuns(cursor, bitWidth(column.maxRepetition), values, undefined, column, 'repetition levels');
  }
  // hyparquet sizes the values by the levels that say "defined": as many as the page has, less its nulls.
  let defined = values;
  if (column.maxDefinition > 0) {
    const levels = walkRuns(
      cursor,
      bitWidth(column.maxDefinition),
      values,
      undefined,
      column,
      'definition levels',
      {
        level: column.maxDefinition,
      },
    );
    if (levels === undefined) return;
    defined = levels;
  }
  checkValues(cursor, daph.encoding, defined, page.byteLength, column, true);
}

/** A version 2 page: the levels first and never compressed, their lengths in the header (readDataPageV2). */
function checkV2(compressed: Uint8Array, header: PageHeader, column: PageColumn): void {
  const daph2 = header.data_page_header_v2 as NonNullable<PageHeader['data_page_header_v2']>;
  const values = daph2.num_values;
  const repetitionBytes = daph2.repetition_levels_byte_length;
  const definitionBytes = daph2.definition_levels_byte_length;
  const cursor = cursorOver(compressed);
  if (column.maxRepetition > 0) {
    walkRuns(cursor, bitWidth(column.maxRepetition), values, repetitionBytes, column, 'repetition levels');
  }
  cursor.offset = repetitionBytes;
  if (column.maxDefinition > 0) {
    walkRuns(cursor, bitWidth(column.maxDefinition), values, definitionBytes, column, 'definition levels');
  }
  if (!RUN_ENCODINGS.has(daph2.encoding) && !daph2.encoding?.startsWith('DELTA_')) return;
  const levels = repetitionBytes + definitionBytes;
  const size = Number(header.uncompressed_page_size) - levels;
  let page = compressed.subarray(levels);
  if (daph2.is_compressed !== false && size) {
    page = decompressPage(page, size, column.codec as never, column.compressors);
  }
  checkValues(cursorOver(page), daph2.encoding, values - daph2.num_nulls, size, column, false);
}

/**
 * The values of a page from `cursor` on, `defined` of them: RLE runs (dictionary indexes, booleans) or DELTA
 * blocks; other encodings are left to hyparquet, which sizes them by `defined` alone.
 */
function checkValues(
  cursor: Cursor,
  encoding: string,
  defined: number,
  size: number,
  column: PageColumn,
  version1: boolean,
): void {
  if (RUN_ENCODINGS.has(encoding)) {
    // Booleans (version 1: the type; version 2: the RLE encoding) are runs of width 1 after a length. Otherwise
    // a bit width byte comes first, and the runs fill the rest; version 1 skips a width of 0.
    if (version1 ? column.type === 'BOOLEAN' : encoding === 'RLE') {
      walkRuns(cursor, 1, defined, undefined, column, 'values');
      return;
    }
    const width = byteAt(cursor);
    if (width === undefined || (version1 && width === 0)) return;
    walkRuns(cursor, width, defined, version1 ? size - cursor.offset : size - 1, column, 'values');
  } else if (encoding === 'DELTA_BINARY_PACKED' || encoding === 'DELTA_LENGTH_BYTE_ARRAY') {
    walkDelta(cursor, defined, column, 'values');
  } else if (encoding === 'DELTA_BYTE_ARRAY') {
    walkDelta(cursor, defined, column, 'prefix lengths');
    walkDelta(cursor, defined, column, 'suffix lengths');
  }
}

/**
 * One section of RLE / bit-packed hybrid runs, as readRleBitPackedHybrid reads it: `expected` values, the
 * section's length read from a 4-byte prefix when `length` is undefined. Leaves the cursor where hyparquet
 * leaves its reader (the section's start plus its length). With `count`, returns how many of its values are
 * `count.level` (undefined where the bytes end first).
 */
function walkRuns(
  cursor: Cursor,
  width: number,
  expected: number,
  length: number | undefined,
  column: PageColumn,
  section: string,
  count?: { level: number },
): number | undefined {
  let size = length;
  if (size === undefined) {
    if (cursor.offset + 4 > cursor.view.byteLength) return undefined;
    size = cursor.view.getUint32(cursor.offset, true);
    cursor.offset += 4;
  }
  const start = cursor.offset;
  let seen = 0;
  let matching = 0;
  while (seen < expected) {
    const header = varInt(cursor);
    if (header === undefined) return undefined;
    const left = expected - seen;
    if (header & 1) {
      // hyparquet's own 32-bit arithmetic: a header read from more than five bytes can make it negative.
      const values = (header >> 1) << 3;
      if (values < 0 || values > left + 7) {
        throw new Error(
          `a run of ${values} bit-packed ${section} in column "${column.path}" where ${left} remain`,
        );
      }
      const emitted = Math.min(values, left);
      if (count !== undefined) {
        const read = countPacked(cursor, width, emitted, count.level);
        if (read === undefined) return undefined;
        matching += read;
      }
      cursor.offset = cursor.offset + Math.max(1, Math.ceil((values * width) / 8));
      seen += emitted;
    } else {
      const values = header >>> 1;
      if (values > left) {
        throw new Error(`a run of ${values} ${section} in column "${column.path}" where ${left} remain`);
      }
      const value = littleEndian(cursor, (width + 7) >> 3);
      if (value === undefined) return undefined;
      if (value === count?.level) matching += values;
      seen += values;
    }
    if (cursor.offset > cursor.view.byteLength) return undefined;
  }
  cursor.offset = start + size;
  return matching;
}

/**
 * How many of the first `values` values of a bit-packed run at the cursor equal `level` (the bits of each
 * value in order from the lowest, as readBitPacked reads them); the cursor does not move. Undefined where
 * the bytes end first.
 */
function countPacked(cursor: Cursor, width: number, values: number, level: number): number | undefined {
  if (cursor.offset + Math.ceil((values * width) / 8) > cursor.view.byteLength) return undefined;
  const mask = (1 << width) - 1;
  let matching = 0;
  for (let i = 0; i < values; i++) {
    const bit = i * width;
    let value = 0;
    for (let b = 0; b < width; b++) {
      const at = bit + b;
      value |= ((cursor.view.getUint8(cursor.offset + (at >> 3)) >> (at & 7)) & 1) << b;
    }
    if ((value & mask) === level) matching++;
  }
  return matching;
}

/**
 * One DELTA_BINARY_PACKED block of `expected` values, as hyparquet's deltaBinaryUnpack moves through it: a
 * header (values per block, miniblocks per block, the count, the first value), then per block its least
 * delta, a bit width per miniblock, and the miniblocks it reads. The cursor ends where hyparquet's does.
 */
function walkDelta(cursor: Cursor, expected: number, column: PageColumn, section: string): void {
  const blockValues = varInt(cursor);
  const miniblocks = varInt(cursor);
  if (blockValues === undefined || miniblocks === undefined) return;
  if (varInt(cursor) === undefined || varInt(cursor) === undefined) return;
  // hyparquet moves its offset by the miniblock count after every block, and reads each miniblock's values
  // by the block's count over it: either not positive kept it on the same bytes, or going back.
  if (!(blockValues > 0 && miniblocks > 0 && miniblocks <= cursor.view.byteLength)) {
    throw new Error(
      `a DELTA block of ${section} in column "${column.path}" declares ${blockValues} values in ${miniblocks} miniblocks`,
    );
  }
  const perMiniblock = blockValues / miniblocks;
  let produced = 1;
  while (produced < expected) {
    if (varInt(cursor) === undefined) return;
    const widths = cursor.offset;
    let offset = widths + miniblocks;
    for (let i = 0; i < miniblocks && produced < expected; i++) {
      if (widths + i >= cursor.view.byteLength) return;
      offset += (perMiniblock * cursor.view.getUint8(widths + i)) / 8;
      produced += Math.min(Math.ceil(perMiniblock), expected - produced);
    }
    cursor.offset = offset;
    if (cursor.offset > cursor.view.byteLength) return;
  }
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

/** A `bytes`-byte little-endian value at the cursor (readRle's), the cursor past it. */
function littleEndian(cursor: Cursor, bytes: number): number | undefined {
  let value = 0;
  for (let i = 0; i < bytes; i++) {
    const byte = byteAt(cursor);
    if (byte === undefined) return undefined;
    value |= byte << (i << 3);
  }
  return value;
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
