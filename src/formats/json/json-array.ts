/**
 * Streaming reader for a JSON document whose top level is an array of records.
 *
 * A byte scanner tracks string/escape state and bracket depth to find where each top-level element
 * starts and ends; only the bytes of the element in progress are kept across chunks, so memory is
 * bounded by `maxRecordBytes` plus one chunk, whatever the size of the file. Elements are decoded and
 * parsed only once complete, so multi-byte characters split across chunks are never decoded in halves.
 *
 * All elements that begin and end inside one chunk are parsed with a single `JSON.parse` of the
 * chunk's slice wrapped in brackets: the slice between the first element's start and the last
 * element's end is itself `elem, elem, ...`, and one parse of many small objects is several times
 * faster than one parse per object. When that parse fails, the elements are parsed one by one to
 * name the broken one.
 */
import { isUtf8 } from 'node:buffer';
import type { FormatError } from '../../errors.js';
import {
  CARRIAGE_RETURN,
  DEFAULT_MAX_RECORD_BYTES,
  formatError,
  type JsonReaderOptions,
  type JsonRecord,
  NEWLINE,
  parseErrorMessage,
  readBatches,
  SPACE,
  TAB,
  tooLarge,
} from './ndjson.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const BOM = [0xef, 0xbb, 0xbf] as const;

/** Nothing but whitespace (or a BOM) seen yet. */
const BEFORE = 0;
/** After `[`: an element or `]`. */
const FIRST = 1;
/** After `,`: an element must follow. */
const NEXT = 2;
/** Inside an array element; it ends at a `,` or `]` at depth 0 outside strings. */
const ELEMENT = 3;
/** Inside a top-level object; it ends at the bracket that brings depth back to 0. */
const OBJECT = 4;
/** After the closing bracket: only whitespace may follow. */
const AFTER = 5;

function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `"${String.fromCharCode(b)}"` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

class JsonArrayReader {
  private readonly maxRecordBytes: number;
  private readonly source: string | undefined;

  private state = BEFORE;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private line = 1;
  private records = 0;
  /** BOM bytes matched so far; only meaningful at the very start of the stream. */
  private bomMatched = 0;
  private streamOffset = 0;
  /** The element in progress: its record number and first line. */
  private elementRecord = 0;
  private elementLine = 0;
  /** Bytes of an element that started in an earlier chunk (copied: producers may reuse buffers). */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** The document is a single object rather than an array. */
  private topLevelObject = false;

  /** Elements wholly inside the current chunk, parsed together when the chunk is done. */
  private batchStarts: number[] = [];
  private batchEnds: number[] = [];
  private batchLines: number[] = [];
  private batchFirstRecord = 0;

  constructor(options: JsonReaderOptions) {
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.source = options.source;
  }

  push(buf: Buffer, out: JsonRecord[]): void {
    const n = buf.length;
    const max = this.maxRecordBytes;
    let state = this.state;
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    let line = this.line;
    // Start of the element in progress within this chunk; 0 when it began in an earlier chunk.
    let start = 0;
    let i = 0;

    while (i < n) {
      if (state === ELEMENT || state === OBJECT) {
        // The hot loop: keep it to byte compares on locals.
        let end = -1;
        for (; i < n; i++) {
          const b = buf[i]!;
          if (inString) {
            if (escaped) escaped = false;
            else if (b === BACKSLASH) escaped = true;
            else if (b === QUOTE) inString = false;
          } else if (b === QUOTE) {
            inString = true;
          } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
            depth++;
          } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
            if (depth > 0) {
              if (--depth === 0 && state === OBJECT) {
                end = ++i;
                state = AFTER;
                break;
              }
            } else if (b === CLOSE_BRACKET) {
              end = i++;
              state = AFTER;
              break;
            }
            // A `}` at depth 0 is left in the element for JSON.parse to reject.
          } else if (b === COMMA) {
            if (depth === 0) {
              end = i++;
              state = NEXT;
              break;
            }
          } else if (b === NEWLINE) {
            line++;
          }
        }
        if (end === -1) break;
        this.completeElement(buf, start, end, out);
        continue;
      }

      const b = buf[i]!;
      if (b === SPACE || b === TAB || b === CARRIAGE_RETURN) {
        i++;
        continue;
      }
      if (b === NEWLINE) {
        line++;
        i++;
        continue;
      }
      if (state === BEFORE) {
        const offset = this.streamOffset + i;
        if (offset === this.bomMatched && offset < 3 && b === BOM[offset]) {
          this.bomMatched++;
          i++;
          continue;
        }
        if (this.bomMatched > 0 && this.bomMatched < 3) throw this.notAnArray(BOM[0], line);
        if (b === OPEN_BRACKET) {
          state = FIRST;
          i++;
          continue;
        }
        if (b !== OPEN_BRACE) throw this.notAnArray(b, line);
        state = OBJECT;
        depth = 0;
        start = i;
        this.topLevelObject = true;
        this.startElement(line);
        continue;
      }
      if (state === AFTER) {
        this.flushBatch(buf, out);
        throw formatError(
          'invalid_json',
          `unexpected ${describeByte(b)} after the end of the JSON ${this.topLevelObject ? 'object' : 'array'}. ` +
            'A JSON file must hold one array of records; if it has one JSON value per line, read it as NDJSON (format: ndjson).',
          { source: this.source, line },
        );
      }
      // FIRST or NEXT: an element starts here (or the array ends).
      if (b === CLOSE_BRACKET) {
        if (state === FIRST) {
          state = AFTER;
          i++;
          continue;
        }
        this.flushBatch(buf, out);
        throw formatError(
          'invalid_json',
          `the JSON array has a trailing comma after element ${this.records}: remove the comma before "]".`,
          { source: this.source, line, record: this.records },
        );
      }
      if (b === COMMA) {
        this.flushBatch(buf, out);
        throw formatError(
          'invalid_json',
          `the JSON array has an empty element ${this.records + 1} (two commas in a row, or a comma right after "["). Remove the extra comma.`,
          { source: this.source, line, record: this.records + 1 },
        );
      }
      state = ELEMENT;
      depth = 0;
      start = i;
      this.startElement(line);
    }

    this.state = state;
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    this.line = line;
    this.streamOffset += n;
    this.flushBatch(buf, out);
    if (state === ELEMENT || state === OBJECT) {
      // The element continues in the next chunk: keep only its bytes.
      const tail = this.carry.length > 0 ? 0 : start;
      this.carryBytes += n - tail;
      if (this.carryBytes > max) throw this.tooLarge();
      if (n > tail) this.carry.push(Buffer.from(buf.subarray(tail, n)));
    }
  }

  end(_out: JsonRecord[]): void {
    const where = { source: this.source, line: this.elementLine, record: this.elementRecord };
    switch (this.state) {
      case BEFORE:
        if (this.bomMatched > 0 && this.bomMatched < 3) throw this.notAnArray(BOM[0], this.line);
        return;
      case AFTER:
        return;
      case OBJECT:
        throw formatError(
          'invalid_json',
          'the JSON object is not closed: the file ends inside the object that starts here. Was the file truncated?',
          where,
        );
      case ELEMENT:
        throw formatError(
          'invalid_json',
          `the JSON array is not closed: the file ends inside element ${this.elementRecord}, which starts here. Was the file truncated?`,
          where,
        );
      default:
        throw formatError(
          'invalid_json',
          `the JSON array is not closed: the file ends ${this.records === 0 ? 'right after "["' : `after element ${this.records}`} without the closing "]". Was the file truncated?`,
          { source: this.source, line: this.line },
        );
    }
  }

  private startElement(line: number): void {
    this.elementRecord = ++this.records;
    this.elementLine = line;
  }

  private completeElement(buf: Buffer, start: number, end: number, out: JsonRecord[]): void {
    if (this.carry.length > 0) {
      // Only the first element completed in a chunk can have begun in an earlier one, so emitting
      // it now keeps records in order ahead of the batch.
      const size = this.carryBytes + end;
      if (size > this.maxRecordBytes) throw this.tooLarge();
      const bytes = Buffer.concat([...this.carry, buf.subarray(0, end)], size);
      this.carry = [];
      this.carryBytes = 0;
      out.push(this.parseOne(bytes, 0, size, this.elementRecord, this.elementLine));
      return;
    }
    if (end - start > this.maxRecordBytes) {
      this.flushBatch(buf, out);
      throw this.tooLarge();
    }
    if (this.batchStarts.length === 0) this.batchFirstRecord = this.elementRecord;
    this.batchStarts.push(start);
    this.batchEnds.push(end);
    this.batchLines.push(this.elementLine);
  }

  private flushBatch(buf: Buffer, out: JsonRecord[]): void {
    const starts = this.batchStarts;
    const count = starts.length;
    if (count === 0) return;
    const ends = this.batchEnds;
    const lines = this.batchLines;
    const first = this.batchFirstRecord;
    this.batchStarts = [];
    this.batchEnds = [];
    this.batchLines = [];
    const regionStart = starts[0]!;
    const regionEnd = ends[count - 1]!;
    let values: unknown[] | undefined;
    if (isUtf8(buf.subarray(regionStart, regionEnd))) {
      try {
        const parsed: unknown = JSON.parse(`[${buf.toString('utf8', regionStart, regionEnd)}]`);
        // The scanner's cuts match a real parser's on valid JSON, so the counts agree; checked anyway.
        if (Array.isArray(parsed) && parsed.length === count) values = parsed;
      } catch {
        // Parsed one by one below, which names the broken element.
      }
    }
    if (values === undefined) {
      for (let k = 0; k < count; k++)
        out.push(this.parseOne(buf, starts[k]!, ends[k]!, first + k, lines[k]!));
      return;
    }
    for (let k = 0; k < count; k++) out.push({ value: values[k], record: first + k, line: lines[k]! });
  }

  private parseOne(buf: Buffer, start: number, end: number, record: number, line: number): JsonRecord {
    const where = { source: this.source, line, record };
    if (!isUtf8(buf.subarray(start, end))) {
      throw formatError(
        'invalid_utf8',
        `${this.describeElement(record)} is not valid UTF-8. JSON files must be UTF-8: re-export the file as UTF-8.`,
        where,
      );
    }
    try {
      return { value: JSON.parse(buf.toString('utf8', start, end)), record, line };
    } catch (error) {
      throw formatError(
        'invalid_json',
        `${this.describeElement(record)} is not valid JSON (${parseErrorMessage(error)}). ` +
          'Fix the element at this line, or check that the file was exported as valid JSON.',
        where,
        error,
      );
    }
  }

  private notAnArray(b: number, line: number): FormatError {
    return formatError(
      'invalid_json',
      `the file is not a JSON array: it starts with ${describeByte(b)}. ` +
        'A JSON file must hold an array of records ([{...}, {...}]) or a single object; ' +
        'if it has one JSON value per line, read it as NDJSON (format: ndjson).',
      { source: this.source, line },
    );
  }

  private describeElement(record: number): string {
    return this.topLevelObject ? 'the JSON object' : `element ${record} of the JSON array`;
  }

  private tooLarge(): FormatError {
    const record = this.elementRecord;
    return tooLarge(this.describeElement(record), record, this.elementLine, this.maxRecordBytes, this.source);
  }
}

/**
 * Reads a JSON document whose top level is an array, yielding the elements of each input chunk as one
 * batch (one async step per chunk, not per record). `line` is the line where the element starts.
 *
 * A top-level object (rather than an array) is read as a single record, so a file holding one object
 * loads as one row. A top-level scalar is an error. Empty or whitespace-only input yields nothing.
 * Throws FormatError: `invalid_json` for a broken element, trailing content after the closing bracket
 * or a truncated document; `invalid_utf8` for an element that is not UTF-8; `record_too_large` for an
 * element over `maxRecordBytes`. Elements before the fault are yielded first.
 */
export function readJsonArray(
  chunks: AsyncIterable<Buffer>,
  options: JsonReaderOptions = {},
): AsyncGenerator<JsonRecord[]> {
  return readBatches(chunks, new JsonArrayReader(options));
}
