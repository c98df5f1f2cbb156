import { FormatError, InletError } from '../../errors.js';

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

/** Lexer states of a row cut by a chunk boundary (see CsvScanner.lexRowEnd). */
/** At the start of a field. */
const FIELD = 0;
/** Inside an unquoted field, or in stray text after a closing quote: runs to a delimiter or line end. */
const UNQUOTED = 1;
/** Inside a quoted field. */
const QUOTED = 2;
/** Just after a quote inside a quoted field, when quotes escape by doubling: doubled, or closing. */
const QUOTE_IN_QUOTES = 3;
/** Just after the escape byte inside a quoted field (an escape other than the quote). */
const ESCAPE_IN_QUOTES = 4;
/** Just after a CR that ends the row: an LF right after it belongs to the same line end. */
const CR_END = 5;

/**
 * An RFC 4180 scanner that works on bytes and reports field boundaries instead of building strings,
 * because a string per field costs more than PostgreSQL's whole COPY (see docs/benchmarks.md).
 * Accepts LF, CRLF and lone CR line ends, quoted fields with delimiters, quotes and newlines,
 * and skips blank lines. Feed chunks with `push`, then call `finish`.
 */
export class CsvScanner {
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  quoted = new Uint8Array(64);
  /** Work done so far: bytes the scanning loops examined and bytes copied, for tests and the bench. */
  readonly work = { examined: 0, copied: 0 };

  private readonly delimiter: number;
  private readonly quote: number;
  private readonly escape: number;
  private readonly maxRowBytes: number;
  /** The largest of the bytes that end an unquoted field: the delimiter, CR and LF. */
  private readonly highestStop: number;
  private readonly source: string | undefined;
  /**
   * The unfinished row carried across chunks: `carry[0, carried)`. The buffer grows geometrically and is
   * only appended to, so a row that spans many chunks is copied a bounded number of times, not once per chunk.
   */
  private carry: Buffer | undefined;
  private carried = 0;
  /** Where the carried row's bytes leave the lexer (FIELD, UNQUOTED, ...), so new bytes need no rescan. */
  private mode = FIELD;
  /** Physical line (1-based) where the next row starts. */
  private line = 1;
  private problem: string | undefined;
  private newlinesInRow = 0;

  constructor(options: CsvScannerOptions) {
    this.delimiter = singleByte(options.delimiter, 'delimiter');
    this.quote = singleByte(options.quote, 'quote');
    this.escape = singleByte(options.escape, 'escape');
    this.highestStop = Math.max(this.delimiter, LF, CR);
    this.maxRowBytes = options.maxRowBytes ?? 64 * 1024 * 1024;
    this.source = options.source;
  }

  /**
   * Scans the rows complete in `chunk`. Rows wholly inside it are read in place; only a row that crosses
   * chunk boundaries is copied, and each of its bytes is looked at a bounded number of times: the lexer
   * resumes where the last chunk left it, and the row is scanned for fields once, when its line end arrives.
   */
  push(chunk: Buffer, onRow: CsvRowHandler): void {
    if (chunk.length === 0) return;
    let buf = chunk;
    if (this.carried > 0) {
      const end = this.lexRowEnd(chunk);
      if (end === INCOMPLETE) {
        this.keep(chunk, chunk.length);
        return;
      }
      // One byte past the line end, when there is one, lets the scan see that a lone CR ended the row.
      // The scan checks the cap on the finished row's exact length.
      const before = this.carried;
      this.keep(chunk, Math.min(end + 1, chunk.length), false);
      const row = (this.carry as Buffer).subarray(0, this.carried);
      const consumed = this.scan(row, false, onRow);
      if (consumed < before) throw internal('the row carried over did not end where its line end was found');
      this.release();
      buf = chunk.subarray(consumed - before);
    }
    const consumed = this.scan(buf, false, onRow);
    if (consumed < buf.length) {
      // Lex the unfinished tail once so the next chunk resumes from its state, then keep a copy of it:
      // the caller's chunk can then be released.
      this.mode = FIELD;
      if (this.lexRowEnd(buf.subarray(consumed)) !== INCOMPLETE)
        throw internal('a row end was found only on the second look');
      this.keep(buf.subarray(consumed), buf.length - consumed);
    }
  }

  finish(onRow: CsvRowHandler): void {
    if (this.carried === 0) return;
    const row = (this.carry as Buffer).subarray(0, this.carried);
    this.scan(row, true, onRow);
    this.release();
  }

  /**
   * Appends `bytes[0, count)` to the carried row. While the row is unfinished (`check`), refuses it as
   * soon as it outgrows the cap, before reading on: that is what bounds memory on a runaway row.
   */
  private keep(bytes: Buffer, count: number, check = true): void {
    const size = this.carried + count;
    // A CR at the end is the row's line end, not its text.
    if (check && size - (this.mode === CR_END ? 1 : 0) > this.maxRowBytes) throw this.rowTooLarge();
    let carry = this.carry;
    if (carry === undefined || carry.length < size) {
      const grown = Buffer.allocUnsafe(
        Math.max(size, Math.min((carry?.length ?? 0) * 2, this.maxRowBytes + 1), 256),
      );
      if (carry !== undefined && this.carried > 0) {
        carry.copy(grown, 0, 0, this.carried);
        this.work.copied += this.carried;
      }
      carry = grown;
      this.carry = grown;
    }
    bytes.copy(carry, this.carried, 0, count);
    this.work.copied += count;
    this.carried = size;
  }

  /** Empties the carried row; a buffer grown large for one long row is let go rather than held. */
  private release(): void {
    this.carried = 0;
    this.mode = FIELD;
    if (this.carry !== undefined && this.carry.length > 1024 * 1024) this.carry = undefined;
  }

  private rowTooLarge(): FormatError {
    return new FormatError(
      'row_too_large',
      `A row starting at line ${this.line} is longer than ${this.maxRowBytes} bytes. ` +
        'This is usually a quote that is never closed; check the quoting around that line.',
      { location: { source: this.source, line: this.line } },
    );
  }

  /**
   * Lexes `buf` from the state `this.mode` to find where the current row ends: returns the offset after
   * its line end, or INCOMPLETE (keeping the state in `this.mode`) when the row goes on past `buf`.
   * Follows exactly the rules of scanRow and scanQuoted, without recording fields.
   */
  private lexRowEnd(buf: Buffer): number {
    const len = buf.length;
    const delimiter = this.delimiter;
    const quote = this.quote;
    const escapeByte = this.escape;
    const doubling = escapeByte === quote;
    let mode = this.mode;
    let pos = 0;
    let end = INCOMPLETE;
    while (pos < len) {
      const b = buf[pos] as number;
      if (mode === QUOTED) {
        if (doubling) {
          // Only a quote matters inside quotes: let native code find it.
          const at = buf.indexOf(quote, pos);
          if (at === -1) {
            pos = len;
            break;
          }
          pos = at + 1;
          mode = QUOTE_IN_QUOTES;
        } else {
          if (b === escapeByte) mode = ESCAPE_IN_QUOTES;
          else if (b === quote) mode = UNQUOTED;
          pos++;
        }
        continue;
      }
      if (mode === QUOTE_IN_QUOTES) {
        if (b === quote) {
          mode = QUOTED;
          pos++;
          continue;
        }
        mode = UNQUOTED; // the quote closed the field; text after it, if any, runs to the next delimiter
      } else if (mode === ESCAPE_IN_QUOTES) {
        mode = QUOTED;
        if (b === quote || b === escapeByte) pos++;
        continue;
      } else if (mode === CR_END) {
        end = b === LF ? pos + 1 : pos;
        break;
      } else if (mode === FIELD && b === quote) {
        mode = QUOTED;
        pos++;
        continue;
      }
      // FIELD or UNQUOTED: a field's text runs to a delimiter or a line end.
      if (b === delimiter) {
        mode = FIELD;
      } else if (b === LF) {
        end = pos + 1;
        break;
      } else if (b === CR) {
        mode = CR_END;
      } else {
        mode = UNQUOTED;
      }
      pos++;
    }
    this.work.examined += end === INCOMPLETE ? len : end;
    if (end === INCOMPLETE) this.mode = mode;
    else this.mode = FIELD;
    return end;
  }

  /** The line the scanner has reached (1-based), for messages. */
  get currentLine(): number {
    return this.line;
  }

  /** Scans complete rows in `buf`; returns the offset of the first byte not consumed. */
  private scan(buf: Buffer, final: boolean, onRow: CsvRowHandler): number {
    const len = buf.length;
    this.work.examined += len;
    const maxRowBytes = this.maxRowBytes;
    let rowStart = 0;
    while (rowStart < len) {
      this.problem = undefined;
      this.newlinesInRow = 0;
      const next = this.scanRow(buf, rowStart, final);
      if (next === INCOMPLETE) return rowStart;
      const rowEnd = this.rowEnd;
      if (rowEnd - rowStart > maxRowBytes) throw this.rowTooLarge();
      const fieldCount = this.fieldCount;
      for (let f = 0; f < fieldCount; f++) {
        if (this.quoted[f] === 2) {
          this.ends[f] = this.unescape(buf, this.starts[f] as number, this.ends[f] as number);
          this.quoted[f] = 1;
        }
      }
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
    // Most bytes of a field are above all three stops (digits and letters are above a comma, a tab,
    // CR and LF): one comparison lets them by, and only the rest are told apart.
    const highestStop = this.highestStop;
    let starts = this.starts;
    let ends = this.ends;
    let quoted = this.quoted;
    let pos = start;
    let field = 0;
    for (;;) {
      if (field === starts.length) {
        this.grow();
        starts = this.starts;
        ends = this.ends;
        quoted = this.quoted;
      }
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
          const b = buf[pos] as number;
          if (b <= highestStop && (b === delimiter || b === LF || b === CR)) break;
          pos++;
        }
        if (pos === len && !final) return INCOMPLETE;
        starts[field] = fieldStart;
        ends[field] = pos;
        quoted[field] = 0;
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
    this.work.examined += end - start;
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

/** The scanner's two passes disagreed about where a row ends: a bug in Inlet, not in the file. */
function internal(what: string): InletError {
  return new InletError(
    'internal',
    `The CSV scanner went wrong: ${what}. This is a bug in Inlet; please report it with the file that caused it.`,
  );
}

function singleByte(value: string, what: string): number {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length !== 1)
    throw new FormatError('invalid_option', `The CSV ${what} must be one ASCII character, got "${value}".`);
  return bytes[0] as number;
}
