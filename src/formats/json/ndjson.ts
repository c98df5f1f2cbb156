/**
 * Streaming reader for NDJSON (one JSON value per line, https://github.com/ndjson/ndjson-spec).
 * Works on bytes: lines are cut with `Buffer.indexOf(0x0a)` and only complete lines are decoded, so a
 * multi-byte character split across chunks is never decoded in halves.
 */
import { isUtf8 } from 'node:buffer';
import type { ErrorCode } from '../../error-codes/index.js';
import { describeLocation, FormatError } from '../../errors.js';

export interface JsonRecord {
  /** The parsed value, or a JsonSyntaxIssue when this one record could not be parsed (NDJSON only). */
  value: unknown;
  /** 1-based count of records (NDJSON lines that are not blank, or JSON array elements). */
  record: number;
  /** 1-based physical line where the record starts. */
  line: number;
}

export interface JsonReaderOptions {
  /** A record (line or array element) longer than this many bytes is a `record_too_large` error. */
  maxRecordBytes?: number;
  /** The file or object URI, for error messages and locations. */
  source?: string;
}

/**
 * The value of a record whose own bytes are broken while the rest of the file is still readable
 * (an NDJSON line that is not JSON). The engine decides whether that is a rejected row or fatal.
 */
export class JsonSyntaxIssue {
  constructor(
    readonly reason: string,
    /** The raw line, truncated to 200 characters. */
    readonly raw: string,
  ) {}
}

/** 64 MiB: far above any sane record, low enough that one runaway line cannot exhaust memory. */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

export const NEWLINE = 0x0a;
export const CARRIAGE_RETURN = 0x0d;
export const SPACE = 0x20;
export const TAB = 0x09;
const BOM = [0xef, 0xbb, 0xbf] as const;
const RAW_CHARS = 200;

/** `line 7: ...` or `data.json, line 7: ...`, with the matching error location. */
export function formatError(
  code: ErrorCode,
  what: string,
  where: { source: string | undefined; line: number; record?: number },
  cause?: unknown,
): FormatError {
  const location = { source: where.source, line: where.line, record: where.record };
  return new FormatError(code, `${describeLocation(location)}: ${what}`, { location, cause });
}

export function describeBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

export function tooLarge(
  what: string,
  record: number,
  line: number,
  maxRecordBytes: number,
  source: string | undefined,
): FormatError {
  return formatError(
    'record_too_large',
    `${what} is larger than ${describeBytes(maxRecordBytes)} (maxRecordBytes). ` +
      'Split it into smaller records, or raise maxRecordBytes if such records are expected.',
    { source, line, record },
  );
}

/** JSON.parse's own explanation, quoted inside our message so users see both where and what. */
export function parseErrorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Decodes at most what 200 characters can take (4 bytes each) so a huge broken line costs little,
 * and does not cut a surrogate pair in half.
 */
export function truncatedRaw(buf: Buffer, start: number, end: number): string {
  let text = buf.toString('utf8', start, Math.min(end, start + RAW_CHARS * 4));
  if (text.length > RAW_CHARS) {
    const last = text.charCodeAt(RAW_CHARS - 1);
    text = text.slice(0, last >= 0xd800 && last <= 0xdbff ? RAW_CHARS - 1 : RAW_CHARS);
  }
  return text;
}

class NdjsonReader {
  private readonly maxRecordBytes: number;
  private readonly source: string | undefined;
  /** The bytes of an incomplete line, copied because producers may reuse their chunk buffers. */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Physical line number of the next line to complete. */
  private line = 1;
  private records = 0;

  constructor(options: JsonReaderOptions) {
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.source = options.source;
  }

  push(chunk: Buffer, out: JsonRecord[]): void {
    const n = chunk.length;
    let pos = 0;
    let nl = chunk.indexOf(NEWLINE);
    if (nl === -1) {
      this.keep(chunk, 0, n);
      return;
    }
    if (this.carry.length > 0) {
      const size = this.carryBytes + nl;
      if (size > this.maxRecordBytes) throw this.tooLarge();
      const bytes = Buffer.concat([...this.carry, chunk.subarray(0, nl)], size);
      this.carry = [];
      this.carryBytes = 0;
      this.lineOf(bytes, 0, size, isUtf8(bytes), out);
      pos = nl + 1;
      nl = chunk.indexOf(NEWLINE, pos);
    }
    if (nl !== -1) {
      // One validation for all complete lines of the chunk; per-line checks only when it fails.
      const last = chunk.lastIndexOf(NEWLINE);
      const valid = isUtf8(chunk.subarray(pos, last));
      while (nl !== -1) {
        if (nl - pos > this.maxRecordBytes) throw this.tooLarge();
        this.lineOf(chunk, pos, nl, valid || isUtf8(chunk.subarray(pos, nl)), out);
        pos = nl + 1;
        nl = chunk.indexOf(NEWLINE, pos);
      }
    }
    if (pos < n) this.keep(chunk, pos, n);
  }

  end(out: JsonRecord[]): void {
    if (this.carry.length === 0) return;
    const bytes = Buffer.concat(this.carry, this.carryBytes);
    this.carry = [];
    this.carryBytes = 0;
    this.lineOf(bytes, 0, bytes.length, isUtf8(bytes), out);
  }

  private keep(chunk: Buffer, start: number, end: number): void {
    if (start === end) return;
    this.carryBytes += end - start;
    // Fail as soon as the line outgrows the limit, not when it ends: that is what bounds memory.
    if (this.carryBytes > this.maxRecordBytes) throw this.tooLarge();
    this.carry.push(Buffer.from(chunk.subarray(start, end)));
  }

  private tooLarge(): FormatError {
    const record = this.records + 1;
    return tooLarge(`record ${record}`, record, this.line, this.maxRecordBytes, this.source);
  }

  private lineOf(buf: Buffer, start: number, end: number, validUtf8: boolean, out: JsonRecord[]): void {
    const line = this.line++;
    if (
      line === 1 &&
      end - start >= 3 &&
      buf[start] === BOM[0] &&
      buf[start + 1] === BOM[1] &&
      buf[start + 2] === BOM[2]
    ) {
      start += 3;
    }
    let first = start;
    while (first < end) {
      const b = buf[first]!;
      if (b !== SPACE && b !== TAB && b !== CARRIAGE_RETURN) break;
      first++;
    }
    if (first === end) return;
    const record = ++this.records;
    // Drop the CR of a CRLF ending so neither the raw text nor JSON.parse's quote of it shows one.
    if (buf[end - 1] === CARRIAGE_RETURN) end--;
    if (!validUtf8) {
      out.push({
        value: new JsonSyntaxIssue('invalid UTF-8', truncatedRaw(buf, start, end)),
        record,
        line,
      });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8', first, end));
    } catch (error) {
      value = new JsonSyntaxIssue(
        `not valid JSON (${parseErrorMessage(error)}). Each line of an NDJSON file must be one JSON value.`,
        truncatedRaw(buf, start, end),
      );
    }
    out.push({ value, record, line });
  }
}

/**
 * Reads NDJSON, yielding the records of each input chunk as one batch (so callers pay for one async
 * step per chunk, not per record).
 *
 * Blank lines are skipped (they count for `line`, not `record`); LF and CRLF both work; a UTF-8 BOM at
 * the start is ignored. A line that is not JSON, or not UTF-8, does not stop the read: its record's
 * value is a JsonSyntaxIssue. Throws FormatError `record_too_large` for a line over `maxRecordBytes`.
 */
export function readNdjson(
  chunks: AsyncIterable<Buffer>,
  options: JsonReaderOptions = {},
): AsyncGenerator<JsonRecord[]> {
  return readBatches(chunks, new NdjsonReader(options));
}

/** A reader that appends the records complete in each chunk to `out`, and the last ones at `end`. */
export interface RecordReader {
  push(chunk: Buffer, out: JsonRecord[]): void;
  end(out: JsonRecord[]): void;
}

/** Drives a RecordReader over the chunks, one batch of records per chunk. */
export async function* readBatches(
  chunks: AsyncIterable<Buffer>,
  reader: RecordReader,
): AsyncGenerator<JsonRecord[]> {
  for await (const chunk of chunks) {
    const out: JsonRecord[] = [];
    try {
      reader.push(chunk, out);
    } catch (error) {
      // The records before the fault are still the caller's to count, load or reject.
      if (out.length > 0) yield out;
      throw error;
    }
    if (out.length > 0) yield out;
  }
  const out: JsonRecord[] = [];
  reader.end(out);
  if (out.length > 0) yield out;
}
