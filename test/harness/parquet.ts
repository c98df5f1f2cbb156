import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FileMetaData, SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { FormatError } from '../../src/errors.js';
import { openParquet } from '../../src/formats/parquet/reader.js';
import { memoryRandomAccess } from './sources.js';

export interface ParquetColumn {
  /** The column's schema elements: one for a flat column, the group and its children for a nested one. */
  readonly schema: readonly SchemaElement[];
  readonly data: readonly unknown[];
  /** Its values' encoding; hyparquet-writer's choice when absent (a dictionary where it pays). */
  readonly encoding?:
    | 'DELTA_BINARY_PACKED'
    | 'DELTA_LENGTH_BYTE_ARRAY'
    | 'DELTA_BYTE_ARRAY'
    | 'BYTE_STREAM_SPLIT';
}

/** A Parquet file from columns with explicit schemas, written by hyparquet-writer (snappy by default). */
export function parquetFile(
  columns: Readonly<Record<string, ParquetColumn>>,
  options: { rowGroupSize?: number; codec?: 'SNAPPY' | 'UNCOMPRESSED' } = {},
): Buffer {
  const entries = Object.entries(columns);
  const schema: SchemaElement[] = [
    { name: 'root', num_children: entries.length },
    ...entries.flatMap(([, column]) => column.schema),
  ];
  const buffer = parquetWriteBuffer({
    // hyparquet-writer carries its own copy of hyparquet's types.
    schema: schema as NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>,
    columnData: entries.map(([name, column]) => ({
      name,
      data: column.data as unknown[],
      ...(column.encoding === undefined ? {} : { encoding: column.encoding }),
    })),
    ...(options.rowGroupSize === undefined ? {} : { rowGroupSize: options.rowGroupSize }),
    ...(options.codec === undefined ? {} : { codec: options.codec }),
  });
  return Buffer.from(buffer);
}

/** A flat column of one physical type with optional annotations. */
export function flat(
  name: string,
  element: Omit<SchemaElement, 'name'>,
  data: readonly unknown[],
  nullable = true,
): ParquetColumn {
  return { schema: [{ name, repetition_type: nullable ? 'OPTIONAL' : 'REQUIRED', ...element }], data };
}

/** A required INT64 column `id` of `rows` values counting from `first`: the key many test files start with. */
export function int64Ids(rows: number, first = 0): ParquetColumn {
  return flat(
    'id',
    { type: 'INT64' },
    Array.from({ length: rows }, (_, i) => BigInt(first + i)),
    false,
  );
}

/** A nullable LIST of nullable UTF-8 strings (a nested column, which arrow-rs leaves to hyparquet). */
export function textList(name: string, data: readonly unknown[]): ParquetColumn {
  return {
    schema: [
      {
        name,
        repetition_type: 'OPTIONAL',
        num_children: 1,
        converted_type: 'LIST',
        logical_type: { type: 'LIST' },
      },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL', converted_type: 'UTF8' },
    ],
    data,
  };
}

let wasmLoaded: Promise<typeof import('parquet-wasm/esm')> | undefined;

/**
 * parquet-wasm, initialised once per test file: initSync compiles only on its first call, but the 6.6 MB
 * module was read from disk again for every file written.
 */
function parquetWasm(): Promise<typeof import('parquet-wasm/esm')> {
  wasmLoaded ??= (async () => {
    const wasm = await import('parquet-wasm/esm');
    const require = createRequire(import.meta.url);
    wasm.initSync({ module: readFileSync(require.resolve('parquet-wasm/esm/parquet_wasm_bg.wasm')) });
    return wasm;
  })();
  return wasmLoaded;
}

/**
 * The same table written again by arrow-rs (parquet-wasm's writer) with data pages of version 1, as pyarrow
 * and Spark write them by default: every section of a page, its levels included, in one compressed block.
 */
export async function arrowRewritten(
  bytes: Buffer,
  options: {
    codec: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'BROTLI';
    dictionary: boolean;
    /** Encodings by column path, each without a dictionary. */
    encodings?: Record<string, 'DELTA_BINARY_PACKED' | 'DELTA_LENGTH_BYTE_ARRAY' | 'DELTA_BYTE_ARRAY'>;
  },
): Promise<Buffer> {
  const wasm = await parquetWasm();
  let builder = new wasm.WriterPropertiesBuilder()
    .setCompression(wasm.Compression[options.codec])
    .setWriterVersion(wasm.WriterVersion.V1)
    .setDictionaryEnabled(options.dictionary);
  for (const [column, encoding] of Object.entries(options.encodings ?? {})) {
    builder = builder
      .setColumnDictionaryEnabled(column, false)
      .setColumnEncoding(column, wasm.Encoding[encoding]);
  }
  return Buffer.from(wasm.writeParquet(wasm.readParquet(bytes), builder.build()));
}

/** The same file with its footer written again after `edit` changed the metadata (hyparquet-writer's footer writer). */
export async function withFooter(bytes: Buffer, edit: (metadata: FileMetaData) => void): Promise<Buffer> {
  const { parquetMetadata } = await import('hyparquet');
  const { ByteWriter } = await import('hyparquet-writer');
  const { writeMetadata } = await import('hyparquet-writer/src/metadata.js');
  const footerLength = bytes.readUInt32LE(bytes.length - 8);
  const metadata = parquetMetadata(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
  );
  edit(metadata);
  const writer = new ByteWriter();
  writeMetadata(writer, metadata as unknown as Parameters<typeof writeMetadata>[1]);
  const footer = Buffer.from(writer.getBuffer());
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(footer.length, 0);
  tail.write('PAR1', 4, 'latin1');
  return Buffer.concat([bytes.subarray(0, bytes.length - 8 - footerLength), footer, tail]);
}

/** Every row of every column of a file in memory read through: the row count, or the reader's FormatError. */
export async function readEveryRow(bytes: Buffer, source: string): Promise<number | FormatError> {
  try {
    const reader = await openParquet(memoryRandomAccess(bytes), { source, maxDecompressedBytes: 1 << 26 });
    let rows = 0;
    for await (const batch of reader.batches(reader.fields.map((_, i) => i))) {
      for (let row = 0; row < batch.rows; row++) {
        for (let field = 0; field < reader.fields.length; field++) batch.value(field, row);
      }
      rows += batch.rows;
    }
    return rows;
  } catch (error) {
    if (error instanceof FormatError) return error;
    throw error;
  }
}
