/**
 * Parquet files, read one row group at a time: the footer is read first (by range, or from the spool)
 * with hyparquet, then each row group's column chunks are collected from the sequential pass over the
 * file and decoded, and only then is the next one read. Flat columns are decoded by arrow-rs in
 * WebAssembly where it is installed (arrow.ts), everything else by hyparquet. Memory is one row group (its compressed
 * bytes and decoded columns), whatever the file size; a row group declaring more than
 * MAX_ROW_GROUP_BYTES uncompressed is refused rather than decoded.
 *
 * Only the columns the contract reads are decoded.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { AsyncBuffer, Compressors, FileMetaData, RowGroup, SchemaTree } from 'hyparquet';
import { FormatError, SourceError } from '../../errors.js';
import type { ColumnContract } from '../../model/contract.js';
import type { RandomAccessInput } from '../random-access.js';
import { type CellConverter, numbersAsNumbers, type TableBatch, type TableReader } from '../table.js';
import { arrowReadable, decodeGroup } from './arrow.js';
import { describeFields, type ParquetField, rawSchema } from './fields.js';
import { checkPageBounds, chunkRange, type LeafLevels, leafLevels } from './page-bounds.js';
import { NESTED_PARSERS, parquetCellType, parquetConverter } from './values.js';

/** Parquet types whose values are numbers: a column's number format (for text) does not apply to them. */
const NUMBER_FIELDS: ReadonlySet<string> = new Set(['integer', 'float', 'decimal']);

/** A row group is decoded whole; past this declared uncompressed size it is refused (bombs, absurd layouts). */
export const MAX_ROW_GROUP_BYTES = 1024 ** 3;
const FOOTER_FETCH_BYTES = 64 * 1024;

export interface ParquetOptions {
  readonly source: string;
  /** Total uncompressed bytes the file may declare (limits.maxDecompressedBytes). */
  readonly maxDecompressedBytes: number;
  readonly maxRowGroupBytes?: number;
  /** Which decoder reads flat columns; default `auto` (ParquetDecoder). */
  readonly decoder?: ParquetDecoder;
}

/**
 * `auto`: arrow-rs (arrow.ts) for the flat columns of a file with at least ARROW_MIN_VALUES to read, hyparquet
 * for a smaller one and for everything arrow-rs cannot read. `arrow-rs`: arrow-rs wherever it can read, whatever
 * the file's size. `hyparquet`: hyparquet for everything. The last two are for comparisons and tests.
 */
export type ParquetDecoder = 'auto' | 'arrow-rs' | 'hyparquet';

/**
 * The values (rows × columns read) from which arrow-rs repays what it costs a process to start it: reading and
 * compiling its 6.6 MB of WebAssembly, then compiling each decoder it calls on first use (together about 80 ms
 * of a command's wall time). `inlet ingest` of the orders as whole processes, hyparquet's time over arrow-rs's:
 * 0.67 at 1,000 rows, 0.73 at 10,000, 0.83 at 30,000, 1.0 at 100,000 (500,000 values), 1.19 at 300,000.
 */
export const ARROW_MIN_VALUES = 500_000;

type Hyparquet = typeof import('hyparquet');

let modules: Promise<{ hyparquet: Hyparquet; compressors: Compressors }> | undefined;

/** Loaded on first use, so that importing the engine does not pay for the Parquet decoder. */
function loadModules() {
  modules ??= (async () => {
    const [hyparquet, extra] = await Promise.all([import('hyparquet'), import('hyparquet-compressors')]);
    const compressors: Compressors = {
      ...(extra.compressors as Compressors),
      // Node's own zlib is native and faster than the JavaScript ports for these two. Each stops at the size
      // the page declares: a page that inflates past it is damaged (or a bomb), and is refused, not inflated.
      GZIP: (input, outputLength) => gunzipSync(input, { maxOutputLength: Math.max(1, outputLength) }),
      BROTLI: (input, outputLength) =>
        brotliDecompressSync(input, { maxOutputLength: Math.max(1, outputLength) }),
    };
    return { hyparquet, compressors };
  })();
  return modules;
}

export interface ParquetTableReader extends TableReader {
  /** Each column's Parquet type, in file order. */
  readonly columns: readonly ParquetField[];
}

export async function openParquet(
  input: RandomAccessInput,
  options: ParquetOptions,
): Promise<ParquetTableReader> {
  const { hyparquet, compressors } = await loadModules();
  const { source } = options;
  const file: AsyncBuffer = {
    byteLength: input.size,
    slice: async (start, end = input.size) => arrayBufferOf(await input.read(start, end)),
  };
  let metadata: FileMetaData;
  try {
    if (input.size < 12) throw new Error('parquet file is too short');
    metadata = await hyparquet.parquetMetadataAsync(file, {
      initialFetchSize: FOOTER_FETCH_BYTES,
      geoparquet: false,
    });
    checkChunkFields(metadata);
  } catch (error) {
    throw corrupt(error, source, 'its footer (the index at the end of the file) cannot be read');
  }
  let schema: SchemaTree;
  let fields: ParquetField[];
  try {
    schema = hyparquet.parquetSchema(metadata);
    fields = describeFields(schema);
  } catch (error) {
    throw corrupt(error, source, 'its schema cannot be read');
  }
  const raw: FileMetaData = { ...metadata, schema: rawSchema(metadata.schema, schema) };
  checkLayout(metadata, options);
  const rowCount = Number(metadata.num_rows);
  // Row groups each decoder read, filled in as they are (the ledger's details are written at the end).
  const decodedBy = { arrowRs: 0, hyparquet: 0 };
  const details = {
    rowGroups: metadata.row_groups.length,
    rows: rowCount,
    read: input.mode,
    ...(metadata.created_by ? { createdBy: metadata.created_by } : {}),
    decodedBy,
  };

  return {
    columns: fields,
    fields: fields.map((f) => f.name),
    header: { what: 'The Parquet schema' },
    details,
    converter(field: number, column: ColumnContract): CellConverter {
      const parquetField = fields[field] as ParquetField;
      const convert = parquetConverter(parquetField, column, source);
      return NUMBER_FIELDS.has(parquetField.type.kind) ? numbersAsNumbers(column, convert) : convert;
    },
    cellType: (field) => parquetCellType(fields[field] as ParquetField),
    batches(used: readonly number[]): AsyncIterable<TableBatch> {
      return readGroups(input, raw, fields, used, {
        hyparquet,
        compressors,
        source,
        decodedBy,
        leaves: leafLevels(schema),
        arrow: arrowWanted(options.decoder ?? 'auto', rowCount * used.length),
      });
    },
    finish: () => input.finish(),
    close: () => input.close(),
  };
}

/** Whether arrow-rs should read the columns it can, for a file of `values` to read. */
function arrowWanted(decoder: ParquetDecoder, values: number): boolean {
  return decoder === 'arrow-rs' || (decoder === 'auto' && values >= ARROW_MIN_VALUES);
}

/**
 * hyparquet takes a footer's fields as they come, and the reader then reads them as the format requires
 * them: a column chunk a damaged footer left without its path, type or codec would fail later with a
 * TypeError rather than as a damaged file.
 */
function checkChunkFields(metadata: FileMetaData): void {
  metadata.row_groups.forEach((group, g) => {
    group.columns.forEach((chunk, c) => {
      const meta = chunk.meta_data;
      if (meta === undefined) return;
      const path = meta.path_in_schema as unknown;
      if (
        !Array.isArray(path) ||
        path.length === 0 ||
        typeof meta.type !== 'string' ||
        typeof meta.codec !== 'string'
      ) {
        throw new Error(`column chunk ${c + 1} of row group ${g + 1} has no path, type or codec`);
      }
    });
  });
}

function checkLayout(metadata: FileMetaData, options: ParquetOptions): void {
  const limit = options.maxRowGroupBytes ?? MAX_ROW_GROUP_BYTES;
  let total = 0;
  metadata.row_groups.forEach((group, index) => {
    const declared = group.columns.reduce(
      (sum, chunk) => sum + Number(chunk.meta_data?.total_uncompressed_size ?? 0),
      0,
    );
    total += declared;
    if (group.columns.some((chunk) => chunk.file_path)) {
      throw new FormatError(
        'unsupported_parquet',
        'The Parquet file keeps its data in other files (column chunks with file_path): send a self-contained file.',
        { location: { source: options.source } },
      );
    }
    if (declared > limit) {
      throw new FormatError(
        'parquet_row_group_too_large',
        `Row group ${index + 1} of the Parquet file is ${declared} bytes uncompressed; Inlet decodes one row group at a time and refuses row groups over ${limit} bytes. Write the file with smaller row groups (e.g. 128 MiB or 1,000,000 rows).`,
        { location: { source: options.source } },
      );
    }
  });
  if (total > options.maxDecompressedBytes) {
    throw new FormatError(
      'decompressed_too_large',
      `The Parquet file declares ${total} bytes of uncompressed data, past the limit of ${options.maxDecompressedBytes} bytes (limits.maxDecompressedBytes). If it is genuine, raise the limit for this pipeline.`,
      { location: { source: options.source } },
    );
  }
}

/** Where a row group's column chunks lie in the file: [first byte, last byte). */
function groupRange(group: RowGroup, used: ReadonlySet<string>): [number, number] {
  let start = Number.POSITIVE_INFINITY;
  let end = 0;
  for (const chunk of group.columns) {
    const meta = chunk.meta_data;
    if (meta === undefined || !used.has(meta.path_in_schema[0] ?? '')) continue;
    // As hyparquet plans it.
    const [from, to] = chunkRange(meta);
    start = Math.min(start, from);
    end = Math.max(end, to);
  }
  return start === Number.POSITIVE_INFINITY ? [0, 0] : [start, end];
}

async function* readGroups(
  input: RandomAccessInput,
  metadata: FileMetaData,
  fields: readonly ParquetField[],
  used: readonly number[],
  context: {
    hyparquet: Hyparquet;
    compressors: Compressors;
    source: string;
    decodedBy: { arrowRs: number; hyparquet: number };
    /** Each leaf column's levels (page-bounds.ts). */
    leaves: ReadonlyMap<string, LeafLevels>;
    /** Whether arrow-rs reads the row groups whose read columns it can all read. */
    arrow: boolean;
  },
): AsyncGenerator<TableBatch> {
  const names = used.map((f) => (fields[f] as ParquetField).name);
  const wanted = new Set(names);
  let groupStart = 0;
  const arrow = context.arrow && used.every((f) => arrowReadable(fields[f] as ParquetField));
  for (let index = 0; index < metadata.row_groups.length; index++) {
    const group = metadata.row_groups[index] as RowGroup;
    const rows = Number(group.num_rows);
    if (rows === 0) continue;
    const [start, end] = groupRange(group, wanted);
    // A footer that places a column chunk outside the file (or at a negative or absurd offset) is refused here,
    // naming the row group; the input would refuse a range past the end only as a file shorter than its index.
    if (
      !(
        Number.isSafeInteger(start) &&
        Number.isSafeInteger(end) &&
        start >= 0 &&
        start <= end &&
        end <= input.size
      )
    ) {
      throw corrupt(
        undefined,
        context.source,
        `its footer places row group ${index + 1} at bytes ${start} to ${end} of a file of ${input.size}`,
      );
    }
    const parts: Buffer[] = [];
    for await (const part of input.stream(start, end)) parts.push(part);
    const decoded = arrow ? await decodeGroup(metadata, index, parts, start, names) : undefined;
    if (decoded !== undefined) {
      parts.length = 0;
      context.decodedBy.arrowRs++;
      groupStart += rows;
      const columns: ((row: number) => unknown)[] = [];
      used.forEach((f, k) => {
        columns[f] = decoded.columns[k] as (row: number) => unknown;
      });
      try {
        yield {
          rows,
          value: (field, row) => (columns[field] as (row: number) => unknown)(row),
          line: () => undefined,
        };
      } finally {
        decoded.free();
      }
      continue;
    }
    const bytes = Buffer.concat(parts);
    parts.length = 0;
    const file: AsyncBuffer = {
      byteLength: input.size,
      slice: async (from, to = input.size) =>
        from >= start && to <= end
          ? arrayBufferOf(bytes.subarray(from - start, to - start))
          : arrayBufferOf(await input.read(from, to)),
    };
    const columns = new Map<string, unknown[][]>();
    try {
      checkPageBounds(bytes, start, group, wanted, context.leaves, context.compressors);
      context.decodedBy.hyparquet++;
      await context.hyparquet.parquetRead({
        file,
        metadata,
        columns: names,
        rowStart: groupStart,
        rowEnd: groupStart + rows,
        compressors: context.compressors,
        utf8: false,
        parsers: NESTED_PARSERS,
        onChunk: ({ columnName, columnData }) => {
          const list = columns.get(columnName);
          if (list === undefined) columns.set(columnName, [columnData as unknown[]]);
          else list.push(columnData as unknown[]);
        },
      });
    } catch (error) {
      if (error instanceof FormatError || error instanceof SourceError) throw error;
      throw corrupt(error, context.source, `row group ${index + 1} cannot be decoded`);
    }
    const data: (ChunkedColumn | undefined)[] = fields.map(() => undefined);
    for (const f of used) {
      const column = new ChunkedColumn(columns.get((fields[f] as ParquetField).name) ?? []);
      if (column.length < rows) {
        throw corrupt(
          undefined,
          context.source,
          `row group ${index + 1} holds fewer values than rows in column "${(fields[f] as ParquetField).name}"`,
        );
      }
      data[f] = column;
    }
    columns.clear();
    groupStart += rows;
    yield {
      rows,
      value: (field, row) => (data[field] as ChunkedColumn).get(row),
      line: () => undefined,
    };
  }
}

/** A column decoded in several runs (pages), read row by row in order without concatenating them. */
class ChunkedColumn {
  readonly length: number;
  private chunk = 0;
  private chunkStart = 0;

  constructor(private readonly chunks: readonly ArrayLike<unknown>[]) {
    this.length = chunks.reduce((sum, c) => sum + c.length, 0);
  }

  get(row: number): unknown {
    if (row < this.chunkStart) {
      this.chunk = 0;
      this.chunkStart = 0;
    }
    let current = this.chunks[this.chunk] as ArrayLike<unknown>;
    while (row >= this.chunkStart + current.length) {
      this.chunkStart += current.length;
      current = this.chunks[++this.chunk] as ArrayLike<unknown>;
    }
    return current[row - this.chunkStart];
  }
}

function arrayBufferOf(bytes: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return copy;
}

function corrupt(error: unknown, source: string, what: string): FormatError {
  if (error instanceof FormatError) return error;
  const reason = error instanceof Error ? ` (${error.message})` : '';
  return new FormatError(
    'corrupt_parquet',
    `The Parquet file is truncated or damaged: ${what}${reason}. Send the complete file again.`,
    { cause: error, location: { source } },
  );
}
