import { FormatError } from '../../errors.js';

const LF = 0x0a;
const CR = 0x0d;

export interface CsvScannerOptions {
  readonly delimiter: string;
  readonly quote: string;
  /** Escapes a quote inside a quoted field; equal to `quote` means RFC 4180 doubling. */
  readonly escape: string;
  /** A row longer than this is refused: it is almost always an unclosed quote swallowing the file. */
  readonly maxRowBytes?: number;
  readonly source?: string;
}

/**
 * Receives each complete row. Field `i` is `buf[starts[i], ends[i])` (quotes removed, doubled
 * quotes already collapsed); `quoted[i]` is 1 when the field was quoted. `problem` is set when the
 * row is malformed (e.g. text after a closing quote); its fields are then unreliable.
 * The buffer is only valid during the call.
 */
export type CsvRowHandler = (
  buf: Buffer,
  fieldCount: number,
  line: number,
  rowStart: number,
  rowEnd: number,
  problem: string | undefined,
) => void;

const INCOMPLETE = -1;

/**
 * An RFC 4180 scanner that works on bytes and reports field boundaries instead of building strings,
 * because a string per field costs more than PostgreSQL's whole COPY (see QUALITY.md).
 * Accepts LF, CRLF and lone CR line ends, quoted fields with delimiters, quotes and newlines,
 * and skips blank lines. Feed chunks with `push`, then call `finish`.
 */
export class CsvScanner {
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  quoted = new Uint8Array(64);

  private readonly delimiter: number;
  private readonly quote: number;
  private readonly escape: number;
  private readonly maxRowBytes: number;
  private readonly source: string | undefined;
  private pending: Buffer | undefined;
  /** Physical line (1-based) where the next row starts. */
  private line = 1;
  private problem: string | undefined;
  private newlinesInRow = 0;

  constructor(options: CsvScannerOptions) {
    this.delimiter = singleByte(options.delimiter, 'delimiter');
    this.quote = singleByte(options.quote, 'quote');
    this.escape = singleByte(options.escape, 'escape');
    this.maxRowBytes = options.maxRowBytes ?? 64 * 1024 * 1024;
    this.source = options.source;
  }

  push(chunk: Buffer, onRow: CsvRowHandler): void {
    let buf = chunk;
    const pending = this.pending;
    if (pending !== undefined) {
      this.pending = undefined;
      // Finish the carried-over row on a small joined buffer rather than copying the whole chunk:
      // copying every chunk once costs as much as scanning it.
      const joined = Buffer.concat([pending, chunk.subarray(0, Math.max(pending.length * 2, 64 * 1024))]);
      const consumed = this.scan(joined, false, onRow);
      if (consumed >= pending.length) buf = chunk.subarray(consumed - pending.length);
      else buf = Buffer.concat([joined.subarray(consumed), chunk.subarray(joined.length - pending.length)]);
    }
    const consumed = this.scan(buf, false, onRow);
    if (consumed < buf.length) {
      if (buf.length - consumed > this.maxRowBytes) {
        throw new FormatError(
          'row_too_large',
          `A row starting at line ${this.line} is longer than ${this.maxRowBytes} bytes. ` +
            'This is usually a quote that is never closed; check the quoting around that line.',
          { location: { source: this.source, line: this.line } },
        );
      }
      // Keep only the unfinished row; copy so the caller's chunk can be released.
      this.pending = Buffer.from(buf.subarray(consumed));
    }
  }

  finish(onRow: CsvRowHandler): void {
    if (this.pending === undefined) return;
    const buf = this.pending;
    this.pending = undefined;
    this.scan(buf, true, onRow);
  }

  /** The line the scanner has reached (1-based), for messages. */
  get currentLine(): number {
    return this.line;
  }

  /** Scans complete rows in `buf`; returns the offset of the first byte not consumed. */
  private scan(buf: Buffer, final: boolean, onRow: CsvRowHandler): number {
    const len = buf.length;
    let rowStart = 0;
    while (rowStart < len) {
      this.problem = undefined;
      this.newlinesInRow = 0;
      const next = this.scanRow(buf, rowStart, final);
      if (next === INCOMPLETE) return rowStart;
      const fieldCount = this.fieldCount;
      for (let f = 0; f < fieldCount; f++) {
        if (this.quoted[f] === 2) {
          this.ends[f] = this.unescape(buf, this.starts[f] as number, this.ends[f] as number);
          this.quoted[f] = 1;
        }
      }
      const rowEnd = this.rowEnd;
      // A blank line is one empty unquoted field: skip it rather than report a one-field row.
      const blank = fieldCount === 1 && rowEnd === rowStart && this.quoted[0] === 0;
      if (!blank) onRow(buf, fieldCount, this.line, rowStart, rowEnd, this.problem);
      this.line += this.newlinesInRow + (next > rowEnd ? 1 : 0);
      rowStart = next;
    }
    return rowStart;
  }

  private fieldCount = 0;
  private rowEnd = 0;

  /**
   * Scans one row from `start`; fills the field arrays; returns the offset after the row's line end,
   * or INCOMPLETE when the buffer ends inside the row and more data may follow.
   */
  private scanRow(buf: Buffer, start: number, final: boolean): number {
    const len = buf.length;
    const delimiter = this.delimiter;
    const quote = this.quote;
    let pos = start;
    let field = 0;
    for (;;) {
      if (field === this.starts.length) this.grow();
      if (pos < len && buf[pos] === quote) {
        const end = this.scanQuoted(buf, pos, field, final);
        if (end === INCOMPLETE) return INCOMPLETE;
        pos = end;
        // After the closing quote only a delimiter or a line end may follow.
        if (pos < len) {
          const b = buf[pos];
          if (b !== delimiter && b !== LF && b !== CR) {
            this.problem ??= `unexpected text after the closing quote of field ${field + 1}`;
            while (pos < len) {
              const c = buf[pos];
              if (c === delimiter || c === LF || c === CR) break;
              pos++;
            }
            if (pos === len && !final) return INCOMPLETE;
          }
        }
      } else {
        const fieldStart = pos;
        while (pos < len) {
          const b = buf[pos];
          if (b === delimiter || b === LF || b === CR) break;
          pos++;
        }
        if (pos === len && !final) return INCOMPLETE;
        this.starts[field] = fieldStart;
        this.ends[field] = pos;
        this.quoted[field] = 0;
      }
      field++;
      if (pos >= len) {
        this.fieldCount = field;
        this.rowEnd = len;
        return len;
      }
      const b = buf[pos];
      if (b === delimiter) {
        pos++;
        continue;
      }
      this.fieldCount = field;
      this.rowEnd = pos;
      if (b === CR) {
        if (pos + 1 < len) return buf[pos + 1] === LF ? pos + 2 : pos + 1;
        return final ? pos + 1 : INCOMPLETE;
      }
      return pos + 1;
    }
  }

  /** Scans a quoted field starting at the opening quote; returns the offset after the closing quote. */
  private scanQuoted(buf: Buffer, open: number, field: number, final: boolean): number {
    const len = buf.length;
    const quote = this.quote;
    const escapeByte = this.escape;
    const contentStart = open + 1;
    let pos = contentStart;
    let escapes = false;
    let newlines = 0;
    for (;;) {
      if (pos >= len) {
        if (!final) return INCOMPLETE;
        this.problem ??= `quoted field ${field + 1} is not closed before the end of the file`;
        this.newlinesInRow += newlines;
        this.setField(field, contentStart, len, escapes);
        return len;
      }
      const b = buf[pos];
      if (b === LF) {
        newlines++;
      } else if (b === escapeByte && escapeByte !== quote) {
        if (pos + 1 >= len && !final) return INCOMPLETE;
        const next = buf[pos + 1];
        if (next === quote || next === escapeByte) {
          escapes = true;
          pos += 2;
          continue;
        }
      } else if (b === quote) {
        if (pos + 1 >= len && !final) return INCOMPLETE;
        if (buf[pos + 1] === quote && escapeByte === quote) {
          escapes = true;
          pos += 2;
          continue;
        }
        this.newlinesInRow += newlines;
        this.setField(field, contentStart, pos, escapes);
        return pos + 1;
      }
      pos++;
    }
  }

  private setField(field: number, start: number, end: number, escapes: boolean): void {
    this.starts[field] = start;
    this.ends[field] = end;
    // Unescaping rewrites the buffer, so it waits until the row is known to be complete.
    this.quoted[field] = escapes ? 2 : 1;
  }

  /** Collapses escaped quotes in place (the result is never longer); returns the new end. */
  private unescape(buf: Buffer, start: number, end: number): number {
    const quote = this.quote;
    const escapeByte = this.escape;
    let write = start;
    for (let read = start; read < end; read++) {
      const b = buf[read] as number;
      if (b === escapeByte && read + 1 < end) {
        const next = buf[read + 1] as number;
        if (next === quote || (next === escapeByte && escapeByte !== quote)) {
          buf[write++] = next;
          read++;
          continue;
        }
      }
      buf[write++] = b;
    }
    return write;
  }

  private grow(): void {
    const size = this.starts.length * 2;
    const starts = new Int32Array(size);
    starts.set(this.starts);
    const ends = new Int32Array(size);
    ends.set(this.ends);
    const quoted = new Uint8Array(size);
    quoted.set(this.quoted);
    this.starts = starts;
    this.ends = ends;
    this.quoted = quoted;
  }
}

function singleByte(value: string, what: string): number {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length !== 1)
    throw new FormatError('invalid_option', `The CSV ${what} must be one ASCII character, got "${value}".`);
  return bytes[0] as number;
}
