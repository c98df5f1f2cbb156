/**
 * The first rows of a file in any supported format, as typed cells for contract inference. Reads
 * through the same decoders and readers as ingestion (compression, format detection, Parquet row
 * groups, XLSX sheets) and stops once it has enough rows.
 */

import { FormatError } from '../errors.js';
import { detectDelimiter } from '../formats/csv/dialect.js';
import { CsvScanner } from '../formats/csv/scanner.js';
import { type DecodedSource, SourceDecoder } from '../formats/decode.js';
import { type Compression, type ConcreteFormat, detectFormat } from '../formats/detect.js';
import { JsonSyntaxIssue, readJsonArray, readNdjson } from '../formats/json/index.js';
import type { ParquetField } from '../formats/parquet/fields.js';
import { openParquet } from '../formats/parquet/reader.js';
import { openRandomAccess } from '../formats/random-access.js';
import { ByteSpan, CellProblem, type TableBatch } from '../formats/table.js';
import { TextDecoding } from '../formats/text-encoding.js';
import { serialText } from '../formats/xlsx/dates.js';
import { numberText, openXlsx, type SheetCell } from '../formats/xlsx/reader.js';
import {
  type CompressionName,
  type CsvOptions,
  DEFAULT_MAX_COMPRESSION_RATIO,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  type FormatName,
  type Pipeline,
  type TextEncoding,
  type XlsxOptions,
} from '../model/contract.js';
import type { ObjectSource } from '../model/ingestion.js';

export type CellKind = 'text' | 'number' | 'boolean' | 'nested' | 'date' | 'datetime' | 'time';

export interface SampleCell {
  readonly kind: CellKind;
  readonly text: string;
}

export interface SampledField {
  /** The column's name in the file. */
  readonly name: string;
  /** The type a Parquet file declares, which sampling does not second-guess. */
  readonly declared?: ParquetField;
  /** One per sampled row; null when empty. */
  readonly values: (SampleCell | null)[];
}

export interface Sample {
  readonly format: ConcreteFormat;
  readonly compression: Compression;
  readonly fields: readonly SampledField[];
  readonly rows: number;
  /** Where each sampled row is, for messages: its line (text, XLSX) or record number. */
  readonly where: readonly string[];
  /** The sample holds every row of the file. */
  readonly complete: boolean;
  /** The delimiter found in the header, for CSV. */
  readonly delimiter?: string;
  /** The text encoding read, for CSV (UTF-8 when the sampled rows are ASCII). */
  readonly encoding?: TextEncoding;
  readonly sheet?: string;
}

export interface SampleOptions {
  readonly rows: number;
  readonly format?: FormatName;
  readonly compression?: CompressionName;
  readonly csv?: Partial<CsvOptions>;
  readonly xlsx?: XlsxOptions;
  readonly maxDecompressedBytes?: number;
  readonly maxCompressionRatio?: number;
}

function limitsOf(options: SampleOptions): Pipeline['limits'] {
  return {
    maxDecompressedBytes: options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES,
    maxCompressionRatio: options.maxCompressionRatio ?? DEFAULT_MAX_COMPRESSION_RATIO,
  };
}

export async function sampleSource(source: ObjectSource, options: SampleOptions): Promise<Sample> {
  const decoder = new SourceDecoder(await source.open(), {
    ...limitsOf(options),
    source: source.uri,
    name: source.name,
    compression: options.compression ?? 'auto',
    format: options.format ?? 'auto',
  });
  const decoded = await decoder.open();
  if (decoder.rawBytes === 0) {
    throw new FormatError('empty_file', 'The file is empty (0 bytes): there is nothing to infer from.', {
      location: { source: source.uri },
    });
  }
  const format = detectFormat(
    decoded.head,
    decoded.entryName ?? source.name,
    options.format ?? 'auto',
    source.uri,
  );
  const base = { format, compression: decoded.compression };
  switch (format) {
    case 'csv':
    case 'tsv':
      return { ...base, ...(await sampleCsv(decoded, format, options, source.uri)) };
    case 'json':
    case 'ndjson':
      return { ...base, ...(await sampleJson(decoded, format, options, source.uri)) };
    case 'parquet':
    case 'xlsx':
      return { ...base, ...(await sampleTable(decoded, source, format, options)) };
  }
}

type Sampled = Omit<Sample, 'format' | 'compression'>;

async function sampleCsv(
  decoded: DecodedSource,
  format: 'csv' | 'tsv',
  options: SampleOptions,
  source: string,
): Promise<Sampled> {
  const quote = options.csv?.quote ?? '"';
  const escapeCharacter = options.csv?.escape ?? quote;
  const header = options.csv?.header ?? true;
  // Read as ingestion reads it: into UTF-8 first, then the delimiter from the first rows.
  const decoding = new TextDecoding(options.csv?.encoding ?? 'auto', { singleByteFallback: true, source });
  const given = options.csv?.delimiter;
  let delimiter = given === undefined || given === 'auto' ? undefined : given;
  let scanner: CsvScanner | undefined;
  let names: string[] | undefined;
  const rows: string[][] = [];
  const where: string[] = [];
  let more = false;
  const onRow = (buf: Buffer, count: number, line: number) => {
    const fields: string[] = [];
    for (let i = 0; i < count; i++) fields.push(buf.toString('utf8', scanner?.starts[i], scanner?.ends[i]));
    if (names === undefined && header) {
      names = fields;
      return;
    }
    if (rows.length >= options.rows) {
      more = true;
      return;
    }
    rows.push(fields);
    where.push(`line ${line}`);
  };
  const open = (sample: Buffer, wholeFile: boolean): CsvScanner => {
    delimiter ??= detectDelimiter(sample, {
      quote,
      escape: escapeCharacter,
      header,
      preferred: format === 'tsv' ? '\t' : ',',
      wholeFile,
    });
    return new CsvScanner({ delimiter, quote, escape: escapeCharacter, source });
  };
  const iterator = decoding.decode(decoded.chunks)[Symbol.asyncIterator]();
  let next = await iterator.next();
  // The first chunk holds the header and the rows under it (the decoder reads at least 4 KiB at once).
  const first = next.done ? Buffer.alloc(0) : next.value;
  scanner = open(first, next.done === true);
  while (!next.done) {
    scanner.push(next.value, onRow);
    if (more) break;
    next = await iterator.next();
  }
  if (more) await iterator.return?.(undefined);
  else scanner.finish(onRow);
  const width = names?.length ?? Math.max(0, ...rows.map((r) => r.length));
  const fieldNames = names ?? Array.from({ length: width }, (_, i) => `column_${i + 1}`);
  if (fieldNames.length === 0) {
    throw new FormatError(
      'empty_file',
      'The file has no header row and no data: there is nothing to infer from.',
      {
        location: { source },
      },
    );
  }
  return {
    fields: fieldNames.map((name, f) => ({
      name,
      values: rows.map((row) => {
        const text = row[f];
        return text === undefined || text === '' ? null : { kind: 'text', text };
      }),
    })),
    rows: rows.length,
    where,
    complete: !more,
    delimiter,
    encoding: decoding.encoding,
  };
}

async function sampleJson(
  decoded: DecodedSource,
  format: 'json' | 'ndjson',
  options: SampleOptions,
  source: string,
): Promise<Sampled> {
  const records =
    format === 'ndjson' ? readNdjson(decoded.chunks, { source }) : readJsonArray(decoded.chunks, { source });
  const objects: Record<string, unknown>[] = [];
  const where: string[] = [];
  const keys = new Map<string, number>();
  let more = false;
  outer: for await (const batch of records) {
    for (const { value, line } of batch) {
      if (
        value instanceof JsonSyntaxIssue ||
        value === null ||
        typeof value !== 'object' ||
        Array.isArray(value)
      )
        continue;
      if (objects.length >= options.rows) {
        more = true;
        break outer;
      }
      for (const key of Object.keys(value)) if (!keys.has(key)) keys.set(key, keys.size);
      objects.push(value as Record<string, unknown>);
      where.push(`line ${line}`);
    }
  }
  return {
    fields: [...keys.keys()].map((name) => ({
      name,
      values: objects.map((object) => jsonCell(object[name])),
    })),
    rows: objects.length,
    where,
    complete: !more,
  };
}

function jsonCell(value: unknown): SampleCell | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value === '' ? null : { kind: 'text', text: value };
  if (typeof value === 'number' || typeof value === 'bigint') return { kind: 'number', text: String(value) };
  if (typeof value === 'boolean') return { kind: 'boolean', text: String(value) };
  return { kind: 'nested', text: JSON.stringify(value) };
}

const TEXT_COLUMN = {
  name: 'sample',
  source: 'sample',
  nullable: true,
  type: { kind: 'text', sql: 'text' },
} as const;

async function sampleTable(
  decoded: DecodedSource,
  source: ObjectSource,
  format: 'parquet' | 'xlsx',
  options: SampleOptions,
): Promise<Sampled> {
  const input = await openRandomAccess(decoded, source);
  const limits = { source: source.uri, ...limitsOf(options) };
  try {
    if (format === 'parquet') {
      const reader = await openParquet(input, limits);
      const converters = reader.columns.map((column, f) =>
        column.type.kind === 'unsupported' ? undefined : reader.converter(f, TEXT_COLUMN),
      );
      const cell = (f: number, value: unknown): SampleCell | null => {
        if (value === null || value === undefined) return null;
        const text = (converters[f] as (v: unknown) => unknown)(value);
        if (text instanceof CellProblem) return null;
        return {
          kind: 'text',
          text:
            typeof text === 'string'
              ? text
              : text instanceof ByteSpan
                ? Buffer.from(text.src.buffer, text.src.byteOffset, text.src.byteLength).toString(
                    'utf8',
                    text.start,
                    text.end,
                  )
                : Buffer.from(text as Uint8Array).toString('utf8'),
        };
      };
      // Columns Inlet cannot read are left out of the sample rather than failing it.
      const readable = reader.columns.flatMap((column, f) => (column.type.kind === 'unsupported' ? [] : [f]));
      const collected = await collect(reader.batches(readable), readable, options.rows, cell);
      return {
        ...collected,
        fields: reader.columns.map((declared, f) => ({
          name: declared.name,
          declared,
          values: collected.values[f] ?? [],
        })),
        where: collected.lines.map((_, i) => `record ${i + 1}`),
      };
    }
    const reader = await openXlsx(input, {
      ...limits,
      ...(options.xlsx === undefined ? {} : { options: options.xlsx }),
    });
    const { styles, dateSystem } = reader.workbook;
    const cell = (_f: number, value: unknown): SampleCell | null => {
      const c = value as SheetCell | undefined;
      if (c === undefined || c.text === '' || c.kind === 'error') return null;
      if (c.kind === 'boolean')
        return { kind: 'boolean', text: c.text === '1' || c.text === 'true' ? 'true' : 'false' };
      if (c.kind !== 'number') return { kind: 'text', text: c.text };
      const shows = styles[c.style] ?? 'number';
      if (shows === 'number') return { kind: 'number', text: numberText(c.text) };
      const date = serialText(Number(c.text), dateSystem);
      if (!date.ok) return { kind: 'number', text: numberText(c.text) };
      return {
        kind: !date.hasDate ? 'time' : date.hasTime || shows !== 'date' ? 'datetime' : 'date',
        text: date.text,
      };
    };
    const all = reader.fields.map((_, f) => f);
    const collected = await collect(reader.batches(all), all, options.rows, cell);
    return {
      ...collected,
      fields: reader.fields.map((name, f) => ({ name, values: collected.values[f] ?? [] })),
      where: collected.lines.map((line, i) => (line === undefined ? `record ${i + 1}` : `row ${line}`)),
      sheet: reader.sheet.name,
    };
  } finally {
    await input.close();
  }
}

async function collect(
  batches: AsyncIterable<TableBatch>,
  used: readonly number[],
  limit: number,
  cell: (field: number, value: unknown) => SampleCell | null,
): Promise<{
  values: (SampleCell | null)[][];
  lines: (number | undefined)[];
  rows: number;
  complete: boolean;
}> {
  const values: (SampleCell | null)[][] = [];
  for (const f of used) values[f] = [];
  const lines: (number | undefined)[] = [];
  // The header alone (onDrift: evolve looks at the names first): not a row group or sheet row is read.
  if (limit === 0) return { values, lines, rows: 0, complete: false };
  for await (const batch of batches) {
    for (let row = 0; row < batch.rows; row++) {
      if (lines.length >= limit) return { values, lines, rows: lines.length, complete: false };
      if (batch.problem?.(row) !== undefined) continue;
      for (const f of used) (values[f] as (SampleCell | null)[]).push(cell(f, batch.value(f, row)));
      lines.push(batch.line(row));
    }
  }
  return { values, lines, rows: lines.length, complete: true };
}
