/**
 * Before hyparquet decodes a row group, its pages are checked against what the file's own index declares.
 * Seeded random damage to a small file found two ways a few bytes kept a process at full CPU for minutes,
 * its memory growing to gigabytes (test/unit/formats/parquet-page-bounds.test.ts):
 * - hyparquet sizes a page's arrays by the value count its header claims;
 * - a header missing a size makes hyparquet's read offset NaN, and a read at NaN reads byte 0 again and again.
 *
 * The rules:
 * - a page may hold no more values than its column chunk declares;
 * - a column chunk outside any repeated group holds at most one value per row;
 * - a repeated column's chunk is held to MAX_CHUNK_VALUES;
 * - each page's sizes must be there and fit its page and its chunk.
 *
 * Still open: a level run inside a page of allowed size can claim more values than the page holds. hyparquet
 * writes them all (readRle in its encoding.js); that belongs to hyparquet to clamp.
 */
import type { ColumnChunk, RowGroup, SchemaTree } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';

/**
 * The most values one column chunk of a repeated column may declare: as many 8-byte values as the largest
 * row group Inlet decodes holds bytes (MAX_ROW_GROUP_BYTES, 1 GiB), far past what a real file puts in a group.
 */
export const MAX_CHUNK_VALUES = 2 ** 27;

/** Whether each leaf column, by its dotted path, lies inside a repeated group (or is repeated itself). */
export function repeatedLeaves(schema: SchemaTree): ReadonlyMap<string, boolean> {
  const leaves = new Map<string, boolean>();
  const walk = (node: SchemaTree, repeated: boolean) => {
    const here = repeated || node.element.repetition_type === 'REPEATED';
    if (node.children.length === 0) leaves.set(node.path.join('.'), here);
    for (const child of node.children) walk(child, here);
  };
  for (const child of schema.children) walk(child, false);
  return leaves;
}

/**
 * Throws a plain Error saying what is wrong when a page of the used column chunks of `group` (their bytes
 * in `bytes`, which starts at file offset `start`) declares more values than it may. The caller turns it
 * into corrupt_parquet.
 */
export function checkPageBounds(
  bytes: Buffer,
  start: number,
  group: RowGroup,
  used: ReadonlySet<string>,
  repeated: ReadonlyMap<string, boolean>,
): void {
  const rows = Number(group.num_rows);
  for (const chunk of group.columns) {
    const meta = chunk.meta_data;
    if (meta === undefined || !used.has(meta.path_in_schema[0] ?? '')) continue;
    const path = meta.path_in_schema.join('.');
    const declared = Number(meta.num_values);
    const limit = repeated.get(path) === false ? rows : MAX_CHUNK_VALUES;
    if (!(declared >= 0 && declared <= limit)) {
      throw new Error(`column "${path}" declares ${declared} values for ${rows} rows`);
    }
    checkChunkPages(bytes, start, chunk, path, declared);
  }
}

type ChunkMeta = NonNullable<ColumnChunk['meta_data']>;

/** The file offsets `[start, end)` of a column chunk's pages; a dictionary page, when there is one, comes first. */
export function chunkRange(meta: ChunkMeta): [number, number] {
  const offset = Number(meta.dictionary_page_offset || meta.data_page_offset);
  return [offset, offset + Number(meta.total_compressed_size)];
}

function checkChunkPages(bytes: Buffer, start: number, chunk: ColumnChunk, path: string, declared: number) {
  const [from, to] = chunkRange(chunk.meta_data as ChunkMeta);
  const first = from - start;
  const end = to - start;
  if (!(first >= 0 && end <= bytes.length)) throw new Error(`column "${path}" lies outside its row group`);
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, end), offset: first };
  let values = 0;
  // Every page takes at least its header's bytes, so the pages are fewer than the chunk's bytes.
  while (reader.offset < end) {
    const header = parquetHeader(reader);
    const size = header.compressed_page_size;
    if (!(size >= 0 && reader.offset + size <= end)) {
      throw new Error(`a page of column "${path}" runs past the end of its column chunk`);
    }
    // hyparquet adds these sizes to its read offset: one missing (a damaged header) made it NaN, and a read
    // at NaN reads byte 0 again and again, for ever.
    const v2 = header.data_page_header_v2;
    const sizes = [
      header.uncompressed_page_size,
      ...(v2 === undefined ? [] : [v2.definition_levels_byte_length, v2.repetition_levels_byte_length]),
    ];
    if (!sizes.every((n) => Number.isSafeInteger(n) && n >= 0 && n <= header.uncompressed_page_size)) {
      throw new Error(`a page header of column "${path}" has a size that is missing or out of range`);
    }
    const pageValues = header.data_page_header?.num_values ?? header.data_page_header_v2?.num_values ?? 0;
    if (!Number.isSafeInteger(pageValues))
      throw new Error(`a page of column "${path}" has no count of values`);
    if (header.dictionary_page_header !== undefined) {
      // A dictionary entry takes at least one bit of the page.
      const entries = header.dictionary_page_header.num_values;
      if (!(entries >= 0 && entries <= header.uncompressed_page_size * 8)) {
        throw new Error(
          `the dictionary of column "${path}" declares ${entries} entries in ${header.uncompressed_page_size} bytes`,
        );
      }
    }
    values += pageValues;
    if (!(pageValues >= 0 && values <= declared)) {
      throw new Error(`the pages of column "${path}" declare more than its ${declared} values`);
    }
    reader.offset += size;
  }
}
