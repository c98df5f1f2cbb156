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
 * - each page's sizes must be there and fit its page and its chunk, and no page may be larger uncompressed
 *   than its whole chunk declares (the codecs are held to that size: a small page cannot inflate to gigabytes);
 * - no run of values inside a data page may claim more values than the page has left, and no DELTA block
 *   may lack values or miniblocks (page-sections.ts).
 */
import type { ColumnChunk, Compressors, PageHeader, RowGroup, SchemaTree } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { getMaxDefinitionLevel, getMaxRepetitionLevel } from 'hyparquet/src/schema.js';
import { checkPageSections, type PageColumn } from './page-sections.js';

/**
 * The most values one column chunk of a repeated column may declare: as many 8-byte values as the largest
 * row group Inlet decodes holds bytes (MAX_ROW_GROUP_BYTES, 1 GiB), far past what a real file puts in a group.
 */
export const MAX_CHUNK_VALUES = 2 ** 27;

/** A leaf column's levels, as hyparquet works them out from its path in the schema. */
export interface LeafLevels {
  readonly maxRepetition: number;
  readonly maxDefinition: number;
}

/** Each leaf column's levels, by its dotted path; one with repetition lies inside a repeated group. */
export function leafLevels(schema: SchemaTree): ReadonlyMap<string, LeafLevels> {
  const leaves = new Map<string, LeafLevels>();
  const walk = (path: SchemaTree[]) => {
    const node = path[path.length - 1] as SchemaTree;
    if (node.children.length === 0) {
      leaves.set(node.path.join('.'), {
        maxRepetition: getMaxRepetitionLevel(path),
        maxDefinition: getMaxDefinitionLevel(path),
      });
    }
    for (const child of node.children) walk([...path, child]);
  };
  for (const child of schema.children) walk([schema, child]);
  return leaves;
}

/**
 * Throws a plain Error saying what is wrong when a page of the used column chunks of `group` (their bytes
 * in `bytes`, which starts at file offset `start`) declares more values or bytes than it may. The caller
 * turns it into corrupt_parquet.
 */
export function checkPageBounds(
  bytes: Buffer,
  start: number,
  group: RowGroup,
  used: ReadonlySet<string>,
  leaves: ReadonlyMap<string, LeafLevels>,
  compressors: Compressors,
): void {
  const rows = Number(group.num_rows);
  for (const chunk of group.columns) {
    const meta = chunk.meta_data;
    if (meta === undefined || !used.has(meta.path_in_schema[0] ?? '')) continue;
    const path = meta.path_in_schema.join('.');
    const levels = leaves.get(path);
    if (levels === undefined) throw new Error(`column "${path}" is not in the file's schema`);
    const declared = Number(meta.num_values);
    const limit = levels.maxRepetition === 0 ? rows : MAX_CHUNK_VALUES;
    if (!(declared >= 0 && declared <= limit)) {
      throw new Error(`column "${path}" declares ${declared} values for ${rows} rows`);
    }
    checkChunkPages(bytes, start, chunk, declared, {
      path,
      ...levels,
      type: meta.type,
      codec: meta.codec,
      compressors,
    });
  }
}

type ChunkMeta = NonNullable<ColumnChunk['meta_data']>;

/** The file offsets `[start, end)` of a column chunk's pages; a dictionary page, when there is one, comes first. */
export function chunkRange(meta: ChunkMeta): [number, number] {
  const offset = Number(meta.dictionary_page_offset || meta.data_page_offset);
  return [offset, offset + Number(meta.total_compressed_size)];
}

function checkChunkPages(
  bytes: Buffer,
  start: number,
  chunk: ColumnChunk,
  declared: number,
  column: PageColumn,
) {
  const { path } = column;
  const meta = chunk.meta_data as ChunkMeta;
  const chunkBytes = Number(meta.total_uncompressed_size);
  if (!(Number.isSafeInteger(chunkBytes) && chunkBytes >= 0)) {
    throw new Error(`column "${path}" declares no uncompressed size`);
  }
  const [from, to] = chunkRange(meta);
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
    // The chunk's size counts every page, headers included: no one page is larger.
    if (header.uncompressed_page_size > chunkBytes) {
      throw new Error(
        `a page of column "${path}" is ${header.uncompressed_page_size} bytes uncompressed, more than its whole column chunk (${chunkBytes})`,
      );
    }
    const pageValues = dataPageValues(header);
    if (pageValues === undefined) throw new Error(`a page of column "${path}" has no count of values`);
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
    checkPageSections(bytes.subarray(reader.offset, reader.offset + size), header, column);
    reader.offset += size;
  }
}

/**
 * A data page's count of values (0 for any other page), or undefined when its header lacks one, or its count
 * of nulls (version 2) does not fit in it. hyparquet sizes the page's arrays by these counts: a count that is
 * missing made one of them `new Array(undefined)`, an array of one, which a run then grew without bound.
 */
function dataPageValues(header: PageHeader): number | undefined {
  const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (header.type === 'DATA_PAGE') {
    const values = header.data_page_header?.num_values;
    return isCount(values) ? values : undefined;
  }
  if (header.type === 'DATA_PAGE_V2') {
    const v2 = header.data_page_header_v2;
    if (!isCount(v2?.num_values) || !isCount(v2.num_nulls) || v2.num_nulls > v2.num_values) return undefined;
    return v2.num_values;
  }
  return 0;
}
