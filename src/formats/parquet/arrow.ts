/**
 * Row groups decoded by arrow-rs compiled to WebAssembly (parquet-wasm), three to four times faster
 * than hyparquet for flat columns, read in place from the WebAssembly memory through the Arrow C data
 * interface. Each cell comes out as the value hyparquet gives for it (numbers, bigints only where a
 * 64-bit value is not a safe integer, booleans, day and epoch counts), text as its UTF-8 bytes in place
 * (a ByteSpan the next read of the column repoints, where hyparquet gives a Uint8Array of the same
 * bytes), so converters, typed writers and rejects see the same thing whichever decoder ran.
 *
 * Used only for files whose read columns are all flat primitives of the kinds below; any other file,
 * a row group arrow-rs refuses or lays out unexpectedly, or a runtime without the WebAssembly module
 * (the Lambda bundle does not ship it) is read by hyparquet as before.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import type { FileMetaData, RowGroup, SchemaElement } from 'hyparquet';
import { ByteSpan } from '../table.js';
import type { ParquetField } from './fields.js';

type ParquetWasm = typeof import('parquet-wasm/esm');
/** hyparquet-writer's footer writer, for the one-row-group files arrow-rs is given. */
type FooterWriter = {
  ByteWriter: typeof import('hyparquet-writer').ByteWriter;
  writeMetadata: typeof import('hyparquet-writer/src/metadata.js').writeMetadata;
};
type Decoder = { wasm: ParquetWasm; footer: FooterWriter };

let loaded: Promise<Decoder | undefined> | undefined;

/** The modules, the WebAssembly compiled once per process on first use; undefined where not installed. */
function loadDecoder(): Promise<Decoder | undefined> {
  loaded ??= (async () => {
    try {
      // A name in a variable: bundlers leave it to the runtime (the Lambda falls back to hyparquet).
      const specifier = 'parquet-wasm/esm';
      const [wasm, byteWriter, metadata] = await Promise.all([
        import(specifier) as Promise<ParquetWasm>,
        import('hyparquet-writer'),
        import('hyparquet-writer/src/metadata.js'),
      ]);
      // Baseline (Liftoff) code only: a load decodes a few row groups, and V8's optimizing tier compiling
      // the hot decoders in the background cost a fresh process more CPU than it saved (measured:
      // 1M rows cold, ~0.9 s of CPU with tier-up, ~0.35 s without; docs/benchmarks.md).
      setFlagsFromString('--liftoff-only');
      const require = createRequire(import.meta.url);
      wasm.initSync({ module: await readFile(require.resolve('parquet-wasm/esm/parquet_wasm_bg.wasm')) });
      return {
        wasm,
        footer: { ByteWriter: byteWriter.ByteWriter, writeMetadata: metadata.writeMetadata },
      };
    } catch {
      return undefined;
    }
  })();
  return loaded;
}

/** Whether arrow-rs reads the field into one of the layouts below. */
export function arrowReadable(field: ParquetField): boolean {
  const type = field.type;
  switch (type.kind) {
    case 'boolean':
    case 'string':
    case 'date':
    case 'timestamp':
      return true;
    case 'float':
      // FLOAT16 is two fixed bytes, left to hyparquet.
      return !field.spelled.startsWith('FIXED_LEN_BYTE_ARRAY');
    case 'integer':
      return type.bits <= 32 || type.signed;
    case 'decimal':
      // Stored as INT32 or INT64: plain integers once the annotation is removed (fields.ts rawSchema).
      return field.spelled.startsWith('INT');
    default:
      return false;
  }
}

/** A row group's columns: the cell at (column, row), null where the validity bitmap says so. */
export interface ArrowGroup {
  readonly columns: readonly ((row: number) => unknown)[];
  /** Frees the group's WebAssembly memory; the columns must not be read after. */
  free(): void;
}

/**
 * Decodes one row group with arrow-rs: its column chunks (`parts`, from file offset `start`) become a
 * Parquet file of their own, a footer with that one row group, so that memory stays one row group
 * whatever the file size. Undefined when arrow-rs is not there or refuses the group (hyparquet then
 * decodes it, and says what is wrong with it); after a panic it is not used again in this process.
 */
export async function decodeGroup(
  metadata: FileMetaData,
  index: number,
  parts: readonly Buffer[],
  start: number,
  names: readonly string[],
): Promise<ArrowGroup | undefined> {
  const decoder = await loadDecoder();
  if (decoder === undefined) return undefined;
  const { wasm, footer } = decoder;
  const group = metadata.row_groups[index] as RowGroup;
  const rows = Number(group.num_rows);
  let stream: ReturnType<ReturnType<ParquetWasm['readParquet']>['intoFFI']>;
  try {
    const table = wasm.readParquet(groupFile(footer, metadata, group, parts, start, names), {
      columns: [...names],
      batchSize: rows,
    });
    stream = table.intoFFI();
  } catch (error) {
    // A panic (WebAssembly's RuntimeError) may leave the module's state broken: hyparquet from now on.
    if (error instanceof Error && error.name === 'RuntimeError') loaded = Promise.resolve(undefined);
    return undefined;
  }
  let columns: ((row: number) => unknown)[] | undefined;
  try {
    columns = stream.numArrays() === 1 ? readBatch(wasm, stream, rows, names.length) : undefined;
  } catch {
    // A buffer not aligned for its typed array view: an unusual layout, left to hyparquet.
    columns = undefined;
  }
  if (columns === undefined) {
    stream.free();
    return undefined;
  }
  return { columns, free: () => stream.free() };
}

const MAGIC = Buffer.from('PAR1');
let scratch = Buffer.alloc(0);

/** The root and the top-level columns in `read` (flat, so one element each), in file order. */
function readSchema(schema: readonly SchemaElement[], read: ReadonlySet<string>): SchemaElement[] {
  const kept: SchemaElement[] = [];
  let at = 1;
  const root = schema[0] as SchemaElement;
  for (let child = 0; child < (root.num_children ?? 0); child++) {
    const element = schema[at] as SchemaElement;
    if (read.has(element.name)) kept.push(sizedIntegers(element));
    at += subtreeSize(schema, at);
  }
  return [{ ...root, num_children: kept.length }, ...kept];
}

/**
 * An INTEGER logical type as its converted type (INT_8, UINT_32…), which says the same: arrow-rs misreads
 * the logical one as hyparquet-writer writes it (as 64 bits wide).
 */
function sizedIntegers(element: SchemaElement): SchemaElement {
  const logical = element.logical_type;
  if (logical?.type !== 'INTEGER') return element;
  const { logical_type: _logical, ...rest } = element;
  const converted =
    `${logical.isSigned ? '' : 'U'}INT_${logical.bitWidth}` as SchemaElement['converted_type'];
  return { ...rest, converted_type: converted };
}

/** How many schema elements the element at `at` and its descendants take. */
function subtreeSize(schema: readonly SchemaElement[], at: number): number {
  let size = 1;
  for (let child = 0; child < ((schema[at] as SchemaElement).num_children ?? 0); child++) {
    size += subtreeSize(schema, at + size);
  }
  return size;
}

/** `PAR1`, the row group's chunks, a footer for them alone (offsets moved), its length, `PAR1`. */
function groupFile(
  { ByteWriter, writeMetadata }: FooterWriter,
  metadata: FileMetaData,
  group: RowGroup,
  parts: readonly Buffer[],
  start: number,
  names: readonly string[],
): Buffer {
  const moved = (offset: bigint | undefined) =>
    offset === undefined ? undefined : BigInt(offset) - BigInt(start) + 4n;
  const read = new Set(names);
  // Only the columns read are in the footer: the others' chunks are not in `parts`.
  const columns = group.columns
    .filter((chunk) => read.has(chunk.meta_data?.path_in_schema[0] ?? ''))
    .map((chunk) => {
      const meta = chunk.meta_data;
      return {
        ...chunk,
        file_offset: moved(chunk.file_offset) ?? 0n,
        offset_index_offset: undefined,
        offset_index_length: undefined,
        column_index_offset: undefined,
        column_index_length: undefined,
        meta_data: meta && {
          ...meta,
          data_page_offset: moved(meta.data_page_offset) as bigint,
          dictionary_page_offset: moved(meta.dictionary_page_offset),
          index_page_offset: undefined,
          bloom_filter_offset: undefined,
          bloom_filter_length: undefined,
          statistics: undefined,
          encoding_stats: undefined,
          size_statistics: undefined,
          geospatial_statistics: undefined,
        },
      };
    });
  const written = new ByteWriter();
  const footerMetadata: FileMetaData = {
    ...metadata,
    schema: readSchema(metadata.schema, read),
    // Without the embedded Arrow schema, arrow-rs types the columns from the Parquet schema alone:
    // the raw one the reader passes, whose dates, timestamps and decimals are plain integers.
    key_value_metadata: undefined,
    num_rows: group.num_rows,
    row_groups: [{ ...group, columns, file_offset: undefined, sorting_columns: undefined }],
  };
  // hyparquet-writer carries its own copy of hyparquet's types.
  writeMetadata(written, footerMetadata as unknown as Parameters<typeof writeMetadata>[1]);
  const footer = Buffer.from(written.getBuffer());
  let length = 4 + footer.length + 8;
  for (const part of parts) length += part.length;
  // One buffer for every group: readParquet copies it into WebAssembly memory, so it is free again at
  // once, and a buffer per group would wait for garbage collection (seen as RSS growing with the file).
  if (scratch.length < length)
    scratch = Buffer.allocUnsafe(Math.max(length, Math.floor(scratch.length * 1.5)));
  let at = MAGIC.copy(scratch, 0);
  for (const part of parts) at += part.copy(scratch, at);
  at += footer.copy(scratch, at);
  at = scratch.writeUInt32LE(footer.length, at);
  at += MAGIC.copy(scratch, at);
  return scratch.subarray(0, at);
}

const TWO_32 = 4_294_967_296;
/** A high word within ±2^21 makes a safe integer. */
const SAFE_HIGH = 0x20_0000;

/** The record batch's columns as cell readers, or undefined for a layout not read here. */
function readBatch(
  wasm: ParquetWasm,
  stream: { arrayAddr(chunk: number): number; schemaAddr(): number },
  rows: number,
  count: number,
): ((row: number) => unknown)[] | undefined {
  const memory = wasm.wasmMemory().buffer;
  const view = new DataView(memory);
  const bytes = Buffer.from(memory);
  // struct ArrowArray and ArrowSchema on wasm32: int64 fields, 4-byte pointers.
  const batch = stream.arrayAddr(0);
  const schema = stream.schemaAddr();
  const int64 = (at: number) => Number(view.getBigInt64(at, true));
  const pointer = (at: number) => view.getUint32(at, true);
  if (int64(batch) !== rows || int64(batch + 32) !== count) return undefined;
  const columns: ((row: number) => unknown)[] = [];
  for (let c = 0; c < count; c++) {
    const array = pointer(pointer(batch + 44) + 4 * c);
    const formatAt = pointer(pointer(pointer(schema + 32) + 4 * c));
    const format = bytes.toString('latin1', formatAt, bytes.indexOf(0, formatAt));
    if (int64(array) !== rows) return undefined;
    const offset = int64(array + 16);
    const buffers = pointer(array + 40);
    const validity = pointer(buffers);
    const data = pointer(buffers + 4);
    const cell = cellReader(format, memory, bytes, data, offset, buffers);
    if (cell === undefined) return undefined;
    if (validity === 0 || int64(array + 8) === 0) columns.push(cell);
    else {
      columns.push((row) => {
        const bit = offset + row;
        return (bytes[validity + (bit >> 3)]! >> (bit & 7)) & 1 ? cell(row) : null;
      });
    }
  }
  return columns;
}

function cellReader(
  format: string,
  memory: ArrayBuffer,
  bytes: Buffer,
  data: number,
  offset: number,
  buffers: number,
): ((row: number) => unknown) | undefined {
  switch (format) {
    case 'b':
      return (row) => ((bytes[data + ((offset + row) >> 3)]! >> ((offset + row) & 7)) & 1) === 1;
    case 'c':
      return typed(new Int8Array(memory, data), offset);
    case 'C':
      return typed(new Uint8Array(memory, data), offset);
    case 's':
      return typed(new Int16Array(memory, data), offset);
    case 'S':
      return typed(new Uint16Array(memory, data), offset);
    case 'i':
      return typed(new Int32Array(memory, data), offset);
    case 'I':
      return typed(new Uint32Array(memory, data), offset);
    case 'f':
      return typed(new Float32Array(memory, data), offset);
    case 'g':
      return typed(new Float64Array(memory, data), offset);
    case 'u': {
      const offsets = new Int32Array(memory, data);
      const text = new DataView(memory).getUint32(buffers + 8, true);
      // The bytes where arrow-rs left them, never a string: text is copied from here into COPY data,
      // and checked there (NUL, and UTF-8 although arrow-rs validated it) as hyparquet's bytes are.
      const span = new ByteSpan();
      return (row) =>
        span.set(bytes, text + offsets[offset + row]!, text + offsets[offset + row + 1]!, false);
    }
  }
  return format === 'l' ? int64Reader(memory, data, offset) : undefined;
}

function typed(values: ArrayLike<number>, offset: number): (row: number) => number {
  return (row) => values[offset + row]!;
}

/** A 64-bit integer as a number when safe, else a bigint: the value hyparquet's converters read either way. */
function int64Reader(memory: ArrayBuffer, data: number, offset: number): (row: number) => number | bigint {
  const words = new Int32Array(memory, data);
  const big = new BigInt64Array(memory, data);
  return (row) => {
    const k = offset + row;
    const high = words[2 * k + 1]!;
    return high >= -SAFE_HIGH && high < SAFE_HIGH ? high * TWO_32 + (words[2 * k]! >>> 0) : big[k]!;
  };
}
