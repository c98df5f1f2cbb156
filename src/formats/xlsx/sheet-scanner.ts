/**
 * A worksheet's XML → rows, scanned as bytes. The sheet is the bulk of a workbook and a general XML
 * parser (saxes, still used for the small parts) spends most of an XLSX load on it, decoding every
 * byte to text and building an attribute map per tag. The sheet's vocabulary is small and fixed, so
 * this scanner finds tags with `indexOf`, reads only the attributes it needs (`r`, `t`, `s`) from
 * bytes, and decodes only the cell values it keeps.
 *
 * It reads what XML allows a writer to put there: namespace prefixes, either quote, `>` inside
 * attribute values, comments, processing instructions, CDATA, entity and character references, CRLF
 * line ends (read as LF, as XML says), markup split anywhere across chunks. It refuses a DOCTYPE
 * (a workbook never has one, and entity declarations are how XML bombs work), unknown entities and
 * unbalanced elements. The tests check it against saxes on the same documents at every chunk size.
 */
import { FormatError } from '../../errors.js';
import type { ArchiveEntry, ZipArchive } from '../zip/archive.js';
import { type SharedStrings, SharedStringsBuilder } from './shared-strings.js';
import { CELL_KINDS, columnIndex, columnLetters } from './sheet.js';
import { Kind, SheetCells } from './sheet-cells.js';

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;
const COLON = 0x3a;
const EQUALS = 0x3d;
const AMPERSAND = 0x26;
const SEMICOLON = 0x3b;
const CARRIAGE_RETURN = 0x0d;

/**
 * The most of one tag, comment or CDATA section held across chunks. A cell holds at most 32,767
 * characters, so only a damaged or hostile sheet comes near it; past it the sheet is refused rather
 * than copied over and over as chunks arrive.
 */
export const MAX_CARRY_BYTES = 4 * 1024 * 1024;

const COMMENT_OPEN = Buffer.from('<!--');
const COMMENT_CLOSE = Buffer.from('-->');
const CDATA_OPEN = Buffer.from('<![CDATA[');
const CDATA_CLOSE = Buffer.from(']]>');
const PI_CLOSE = Buffer.from('?>');

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The elements the scanner acts on, by local name. */
const Tag = {
  Other: 0,
  Row: 1,
  Cell: 2,
  Value: 3,
  InlineString: 4,
  Text: 5,
  Phonetic: 6,
  StringItem: 7,
} as const;
type Tag = (typeof Tag)[keyof typeof Tag];

/**
 * What a byte is to the fast paths' loops, one table load per byte instead of a chain of comparisons
 * (they run over every byte of a sheet's cells). Bits, each read where it matters:
 */
const TEXT_END = 1; // `<`: character data ends
const NOT_PLAIN = 2; // a byte >= 0x80, `&`, CR or NUL: the text is not its own bytes (isPlainAscii)
const NAME_END = 4; // white space, `/`, `>`: where an attribute name cannot go on
const VALUE_STOP = 8; // `"` or `&`: an attribute value ends, or needs decoding
const BYTE_CLASS = new Uint8Array(256);
BYTE_CLASS[LT] = TEXT_END;
for (let byte = 0x80; byte < 0x100; byte++) BYTE_CLASS[byte] = NOT_PLAIN;
BYTE_CLASS[0] = NOT_PLAIN;
BYTE_CLASS[CARRIAGE_RETURN] = NOT_PLAIN | NAME_END;
BYTE_CLASS[AMPERSAND] = NOT_PLAIN | VALUE_STOP;
for (const byte of [0x20, 0x0a, 0x09, SLASH, GT]) BYTE_CLASS[byte] = NAME_END;
BYTE_CLASS[QUOTE] = VALUE_STOP;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** The scanner's complaint: the caller names the sheet and turns it into a FormatError. */
export class SheetXmlError extends Error {
  override readonly name = 'SheetXmlError';
}

/**
 * The byte-level XML reading shared by the sheet and the shared strings: chunks in, whole constructs
 * scanned, an incomplete one carried to the next chunk, character data decoded only while `capture`
 * is set. Subclasses act on the elements they know.
 */
abstract class XmlPartScanner {
  /** Bytes examined, a carried remainder counted again each time: linear in the input on any document. */
  readonly work = { scanned: 0 };
  /**
   * The captured character data so far (V8 joins the pieces once, when the text is read) and how many
   * pieces. A value that is one piece of plain ASCII (most numbers and indexes) is kept as its range of
   * the bytes, `span*`, and becomes text only if asked (`capturedText()`).
   */
  private text = '';
  protected pieces = 0;
  protected capture = false;
  protected spanSrc: Buffer | undefined;
  protected spanStart = 0;
  protected spanEnd = 0;

  private carry: Buffer | undefined;
  /** Bytes before the current chunk's carried remainder, for saying where a document is cut short. */
  private consumed = 0;
  private depth = 0;
  private sawRoot = false;

  /**
   * An element opened (its tag ends at `end`). Returns -1, or the offset just past the element's end tag
   * when the subclass read the whole element from there on (a common shape, read in one go).
   */
  protected abstract opened(
    tag: Tag,
    buf: Buffer,
    nameEnd: number,
    end: number,
    selfClosing: boolean,
  ): number;
  protected abstract closed(tag: Tag): void;

  /** Starts a new value. */
  protected resetText(): void {
    this.text = '';
    this.pieces = 0;
    this.spanSrc = undefined;
  }

  /** The captured value as text. */
  protected capturedText(): string {
    if (this.spanSrc !== undefined) {
      this.text = (this.spanSrc as AsciiSlicing).latin1Slice(this.spanStart, this.spanEnd);
      this.spanSrc = undefined;
    }
    return this.text;
  }

  private append(text: string): void {
    if (this.spanSrc !== undefined) this.capturedText();
    this.text += text;
    this.pieces++;
  }

  private appendBytes(buf: Buffer, start: number, end: number): void {
    if (this.pieces === 0 && isPlainAscii(buf, start, end)) {
      this.spanSrc = buf;
      this.spanStart = start;
      this.spanEnd = end;
      this.pieces = 1;
    } else this.append(decodeText(buf, start, end));
  }

  write(chunk: Buffer): void {
    const buf = this.carry === undefined ? chunk : Buffer.concat([this.carry, chunk]);
    this.carry = undefined;
    this.work.scanned += buf.length;
    const stop = this.scan(buf);
    if (buf.length - stop > MAX_CARRY_BYTES) {
      throw new SheetXmlError(`it has a tag, comment or CDATA section longer than ${MAX_CARRY_BYTES} bytes`);
    }
    this.consumed += stop;
    if (stop < buf.length) this.carry = Buffer.from(buf.subarray(stop));
  }

  end(): void {
    const rest = this.carry;
    if (rest?.some((byte) => !isSpace(byte))) {
      throw new SheetXmlError(
        `it ends inside a tag, comment or value (at byte ${this.consumed} of ${this.consumed + rest.length})`,
      );
    }
    if (!this.sawRoot) throw new SheetXmlError('it has no root element');
    if (this.depth !== 0) {
      throw new SheetXmlError(
        `it ends before its elements are closed (${this.depth} still open after byte ${this.consumed + (rest?.length ?? 0)})`,
      );
    }
  }

  /** Scans whole constructs of `buf`; returns where the first incomplete one starts. */
  private scan(buf: Buffer): number {
    const n = buf.length;
    let pos = 0;
    while (pos < n) {
      if (buf[pos] !== LT) {
        const lt = buf.indexOf(LT, pos);
        if (this.capture) {
          if (lt < 0) {
            // A long value is decoded as it arrives, not carried whole from chunk to chunk.
            const safe = textBoundary(buf, pos, n);
            if (safe > pos) this.appendBytes(buf, pos, safe);
            return safe;
          }
          this.appendBytes(buf, pos, lt);
        } else if (this.depth === 0 && !isBlank(buf, pos, lt < 0 ? n : lt)) {
          throw new SheetXmlError('it has text outside its root element');
        }
        if (lt < 0) return n;
        pos = lt;
        continue;
      }
      if (pos + 1 >= n) return pos;
      const next = buf[pos + 1] as number;
      if (next === BANG) {
        const after = this.declaration(buf, pos);
        if (after < 0) return pos;
        pos = after;
        continue;
      }
      if (next === QUESTION) {
        const close = buf.indexOf(PI_CLOSE, pos + 2);
        if (close < 0) return pos;
        pos = close + 2;
        continue;
      }
      const end = tagEnd(buf, pos + 1);
      if (end < 0) return pos;
      if (next === SLASH) {
        this.close(buf, pos + 2, end);
        pos = end + 1;
      } else pos = this.open(buf, pos + 1, end);
    }
    return n;
  }

  /** `<!--…-->`, `<![CDATA[…]]>`; a DOCTYPE is refused. Returns the offset after it, or -1 when incomplete. */
  private declaration(buf: Buffer, pos: number): number {
    if (startsWith(buf, pos, COMMENT_OPEN)) {
      const close = buf.indexOf(COMMENT_CLOSE, pos + 4);
      return close < 0 ? -1 : close + 3;
    }
    if (startsWith(buf, pos, CDATA_OPEN)) {
      const close = buf.indexOf(CDATA_CLOSE, pos + 9);
      if (close < 0) return -1;
      // A CDATA section's text is its own, references and all; its line ends are read as anywhere else.
      if (this.capture) this.append(normalizeLineEnds(buf.toString('utf8', pos + 9, close)));
      return close + 3;
    }
    // Not yet enough bytes to tell a comment or CDATA from something else.
    if (buf.length - pos < CDATA_OPEN.length && isPrefix(buf, pos)) return -1;
    throw new SheetXmlError('it has a DOCTYPE or other declaration, which the XML of a workbook never has');
  }

  /** Returns where scanning goes on. */
  private open(buf: Buffer, start: number, end: number): number {
    const selfClosing = buf[end - 1] === SLASH;
    const nameEnd = nameEndOf(buf, start, selfClosing ? end - 1 : end);
    if (nameEnd === start) throw new SheetXmlError('it has a tag without a name');
    const tag = tagOf(buf, start, nameEnd);
    this.sawRoot = true;
    const after = this.opened(tag, buf, nameEnd, end, selfClosing);
    if (after >= 0) return after;
    if (!selfClosing) this.depth++;
    return end + 1;
  }

  private close(buf: Buffer, start: number, end: number): void {
    if (--this.depth < 0) throw new SheetXmlError('it closes an element it never opened');
    this.closed(tagOf(buf, start, nameEndOf(buf, start, end)));
  }
}

export class SheetScanner extends XmlPartScanner {
  /** Rows completed since the last `take()`. */
  private cells: SheetCells;
  /** The batch the last `take()` handed over: the next one refills it. */
  private handed: SheetCells | undefined;
  /** The first cell that names a shared string the workbook does not have, as `B7`. */
  badStringIndex: string | undefined;

  private line = 0;
  private inRow = false;
  private rowOrdered = true;
  private hasValue = false;
  private column = 0;
  private lastColumn = -1;
  private kindCode: Kind = Kind.Number;
  /** `t="inlineStr"`: the cell has a value (maybe empty) even without text. */
  private inlineString = false;
  private style = 0;
  private inInline = false;
  private phonetic = 0;
  private readonly attributes: Attributes = {
    rStart: -1,
    rEnd: -1,
    tStart: -1,
    tEnd: -1,
    sStart: -1,
    sEnd: -1,
  };

  constructor(private readonly sharedStrings: SharedStrings) {
    super();
    this.cells = new SheetCells(sharedStrings);
  }

  /**
   * The rows completed so far, handed over once and valid until the next `take()`, which refills the
   * batch handed over before (the reader reads a batch through before it asks for the next). A row
   * still open keeps its cells: they move to the next batch (their bytes stay valid: inflated chunks
   * are never reused).
   */
  take(): SheetCells {
    const done = this.cells;
    const next = this.handed ?? new SheetCells(this.sharedStrings);
    next.clear();
    const kept = done.rows === 0 ? 0 : (done.rowEnds[done.rows - 1] as number);
    for (let i = kept; i < done.count; i++) {
      next.addCell(
        done.columns[i] as number,
        done.kinds[i] as Kind,
        done.styles[i] as number,
        done.texts[i],
        done.srcs[i],
        done.starts[i] as number,
        done.ends[i] as number,
      );
    }
    done.truncate(kept);
    this.cells = next;
    this.handed = done;
    return done;
  }

  protected opened(tag: Tag, buf: Buffer, nameEnd: number, end: number, selfClosing: boolean): number {
    switch (tag) {
      case Tag.Row: {
        const { rStart, rEnd } = readAttributes(buf, nameEnd, end, this.attributes);
        this.startRow(rStart < 0 ? this.line + 1 : numberAttribute(buf, rStart, rEnd), selfClosing);
        break;
      }
      case Tag.Cell: {
        const a = readAttributes(buf, nameEnd, end, this.attributes);
        const at = a.rStart < 0 ? -1 : columnAttribute(buf, a.rStart, a.rEnd);
        this.column = at < 0 ? this.column : at;
        if (a.tStart < 0) {
          this.kindCode = Kind.Number;
          this.inlineString = false;
        } else {
          const kind = kindAttribute(buf, a.tStart, a.tEnd);
          this.kindCode = kindCode(kind);
          this.inlineString = kind === 'inlineStr';
        }
        this.style = a.sStart < 0 ? 0 : numberAttribute(buf, a.sStart, a.sEnd);
        this.resetText();
        this.inInline = false;
        if (selfClosing) this.endCell();
        else return this.plainCell(buf, end + 1);
        break;
      }
      case Tag.Value:
        if (!selfClosing) this.capture = true;
        break;
      case Tag.InlineString:
        this.inInline = true;
        break;
      case Tag.Phonetic:
        if (!selfClosing) this.phonetic++;
        break;
      case Tag.Text:
        if (!selfClosing && this.inInline && this.phonetic === 0) this.capture = true;
        break;
    }
    return -1;
  }

  /**
   * The rest of a cell shaped as most are, `<v>plain ASCII</v></c>` from `at`, read in one go, and the
   * cells like it that follow (`plainCells`): returns the offset past the last one's `</c>`, or -1 to
   * read the cell construct by construct (another shape, or not all of it in this chunk).
   */
  private plainCell(buf: Buffer, at: number): number {
    const valueEnd = plainValue(buf, at, this.work);
    if (valueEnd < 0) return -1;
    this.spanSrc = buf;
    this.spanStart = at + 3;
    this.spanEnd = valueEnd;
    this.pieces = 1;
    this.endCell();
    return this.plainCells(buf, valueEnd + 8);
  }

  /**
   * Cells from `at` on as long as they are all plain: `<c` with only `name="value"` attributes whose
   * `r`, `s` and `t` need no decoding, then a plain value. Returns where the first other construct
   * starts; the general scan reads it (and anything this declined) from there.
   */
  private plainCells(buf: Buffer, at: number): number {
    const n = buf.length;
    for (;;) {
      // Every read is checked against the length first: one past the end deoptimizes the function.
      if (at + 3 > n || buf[at] !== LT) return at;
      if (buf[at + 1] === SLASH) {
        // `</row><row …>`: the next row starts without leaving the loop (the element count is unchanged).
        if (
          at + 6 > n ||
          buf[at + 2] !== 0x72 ||
          buf[at + 3] !== 0x6f ||
          buf[at + 4] !== 0x77 ||
          buf[at + 5] !== GT
        )
          return at;
        const next = this.plainRow(buf, at + 6);
        if (next < 0) return at;
        at = next;
        continue;
      }
      if (buf[at + 1] !== 0x63 || buf[at + 2] !== 0x20) return at;
      const i = this.cellAttributes(buf, at + 3);
      if (i < 0) return at;
      const valueEnd = plainValue(buf, i + 1, this.work);
      if (valueEnd < 0) return at;
      if (this.cellColumn >= 0) this.column = this.cellColumn;
      this.kindCode = this.cellKind;
      this.inlineString = false;
      this.style = this.cellStyle;
      this.inInline = false;
      this.spanSrc = buf;
      this.spanStart = i + 4;
      this.spanEnd = valueEnd;
      this.pieces = 1;
      this.endCell();
      at = valueEnd + 8;
    }
  }

  /** A plain cell's attributes as `cellAttributes` read them: its column (-1: none given), style and kind. */
  private cellColumn = -1;
  private cellStyle = 0;
  private cellKind: Kind = Kind.Number;

  /**
   * The attributes of `<c ` from `i` to its `>` when all are `name="value"` and its `r`, `s` and `t` need no
   * decoding: returns the offset of the `>` (results in `cell*`), or -1 for the general scan. The shape
   * Excel and most writers give, `r="B7" s="3" t="s">`, is read here; anything else by `otherAttributes`,
   * a function of its own so that the rare shapes it reads never deoptimize this one.
   */
  private cellAttributes(buf: Buffer, i: number): number {
    const n = buf.length;
    this.cellColumn = -1;
    this.cellStyle = 0;
    this.cellKind = Kind.Number;
    if (i + 3 < n && buf[i] === 0x72 && buf[i + 1] === EQUALS && buf[i + 2] === QUOTE) {
      let j = i + 3;
      let letters = 0;
      for (; j < n; j++) {
        const code = (buf[j] as number) | 0x20;
        if (code < 0x61 || code > 0x7a) break;
        letters = letters * 26 + (code - 0x60);
      }
      if (j > i + 3) {
        while (j < n && (buf[j] as number) >= 0x30 && (buf[j] as number) <= 0x39) j++;
        if (j < n && buf[j] === QUOTE) {
          this.cellColumn = letters - 1;
          i = j + 1;
        }
      }
    }
    while (i + 5 < n && buf[i] === 0x20 && buf[i + 2] === EQUALS && buf[i + 3] === QUOTE) {
      const name = buf[i + 1];
      if (name === 0x73) {
        let j = i + 4;
        let value = 0;
        for (; j < n && j - i - 4 < 9; j++) {
          const digit = (buf[j] as number) - 0x30;
          if (digit < 0 || digit > 9) break;
          value = value * 10 + digit;
        }
        if (j === i + 4 || j >= n || buf[j] !== QUOTE) break;
        this.cellStyle = value;
        i = j + 1;
      } else if (name === 0x74 && buf[i + 5] === QUOTE) {
        const kind = kindLetter(buf[i + 4] as number);
        if (kind === -1) break;
        this.cellKind = kind;
        i += 6;
      } else break;
    }
    if (i < n && buf[i] === GT) return i;
    return this.otherAttributes(buf, i);
  }

  /** The rest of `cellAttributes`: any order, any other attribute, more white space. */
  private otherAttributes(buf: Buffer, i: number): number {
    const n = buf.length;
    let column = this.cellColumn;
    let style = this.cellStyle;
    let kind: Kind = this.cellKind;
    for (;;) {
      while (i < n && buf[i] === 0x20) i++;
      if (i >= n) return -1;
      const first = buf[i] as number;
      if (first === GT) break;
      const nameStart = i;
      for (; i < n && buf[i] !== EQUALS; i++) {
        // Other white space, a `/` or `>` where a name should be: the general path reads it.
        if (((BYTE_CLASS[buf[i] as number] as number) & NAME_END) !== 0) return -1;
      }
      if (i + 1 >= n || buf[i + 1] !== QUOTE) return -1;
      const valueStart = i + 2;
      i = valueStart;
      while (i < n && ((BYTE_CLASS[buf[i] as number] as number) & VALUE_STOP) === 0) i++;
      if (i >= n || buf[i] !== QUOTE) return -1;
      if (valueStart - 2 - nameStart === 1) {
        // A one-letter name: r, s or t.
        // The value holds no `&` (VALUE_STOP ends it there): neither reader decodes anything here.
        if (first === 0x72) {
          column = columnAttribute(buf, valueStart, i);
          if (column < 0) return -1;
        } else if (first === 0x73) {
          style = plainDigits(buf, valueStart, i);
          if (style < 0) return -1;
        } else if (first === 0x74) {
          if (i - valueStart !== 1) return -1;
          const letter = kindLetter(buf[valueStart] as number);
          if (letter === -1) return -1;
          kind = letter;
        }
      }
      i++;
    }
    this.cellColumn = column;
    this.cellStyle = style;
    this.cellKind = kind;
    return i;
  }

  protected closed(tag: Tag): void {
    switch (tag) {
      case Tag.Value:
      case Tag.Text:
        this.capture = false;
        break;
      case Tag.Phonetic:
        this.phonetic--;
        break;
      case Tag.Cell:
        this.endCell();
        break;
      case Tag.Row:
        this.endRow();
        break;
    }
  }

  private startRow(line: number, selfClosing: boolean): void {
    this.line = line;
    // A row's cells start where the cells kept so far end: those of a row that was not kept are dropped.
    this.cells.truncate(this.cells.rows === 0 ? 0 : (this.cells.rowEnds[this.cells.rows - 1] as number));
    this.inRow = !selfClosing;
    this.rowOrdered = true;
    this.lastColumn = -1;
    this.hasValue = false;
    this.column = 0;
  }

  private endRow(): void {
    if (!this.inRow) return;
    this.inRow = false;
    const cells = this.cells;
    if (this.hasValue) cells.addRow(this.line, this.rowOrdered);
  }

  /**
   * `<row …>` at `at`, its attributes all `name="value"` without references and its `r` (if any) plain
   * digits: starts the row and returns the offset past its `>`; else -1, for the general scan.
   */
  private plainRow(buf: Buffer, at: number): number {
    const n = buf.length;
    if (
      at + 5 > n ||
      buf[at] !== LT ||
      buf[at + 1] !== 0x72 ||
      buf[at + 2] !== 0x6f ||
      buf[at + 3] !== 0x77 ||
      (buf[at + 4] !== 0x20 && buf[at + 4] !== GT)
    )
      return -1;
    let line = this.line + 1;
    let i = at + 4;
    for (;;) {
      while (i < n && buf[i] === 0x20) i++;
      if (i >= n) return -1;
      const first = buf[i] as number;
      if (first === GT) break;
      const nameStart = i;
      for (; i < n && buf[i] !== EQUALS; i++) {
        if (((BYTE_CLASS[buf[i] as number] as number) & NAME_END) !== 0) return -1;
      }
      if (i + 1 >= n || buf[i + 1] !== QUOTE) return -1;
      const valueStart = i + 2;
      i = valueStart;
      while (i < n && ((BYTE_CLASS[buf[i] as number] as number) & VALUE_STOP) === 0) i++;
      if (i >= n || buf[i] !== QUOTE) return -1;
      if (first === 0x72 && valueStart - 2 - nameStart === 1) {
        line = plainDigits(buf, valueStart, i);
        if (line < 0) return -1;
      }
      i++;
    }
    this.endRow();
    this.startRow(line, false);
    return i + 1;
  }

  private endCell(): void {
    // A cell outside any row belongs to none: it is not read.
    if (this.inRow && (this.pieces > 0 || this.inlineString)) {
      const cells = this.cells;
      const code = this.kindCode;
      const column = this.column;
      if (column <= this.lastColumn) this.rowOrdered = false;
      this.lastColumn = column;
      if (code === Kind.Shared) {
        const src = this.spanSrc;
        const index =
          src === undefined ? Number(this.capturedText()) : indexValue(src, this.spanStart, this.spanEnd);
        const strings = this.sharedStrings;
        if (!strings.has(index)) {
          this.badStringIndex ??= `${columnLetters(column)}${this.line}`;
          cells.addCell(column, Kind.String, this.style, '', undefined, 0, 0);
        } else {
          if (!strings.isEmpty(index | 0)) this.hasValue = true;
          // -0 (from "-0") names string 0 as an array index would.
          cells.addCell(column, Kind.Shared, this.style, undefined, undefined, index | 0, 0);
        }
      } else if (this.spanSrc !== undefined) {
        cells.addCell(column, code, this.style, undefined, this.spanSrc, this.spanStart, this.spanEnd);
        if (this.spanEnd > this.spanStart) this.hasValue = true;
      } else {
        const text = this.capturedText();
        cells.addCell(column, code, this.style, text, undefined, 0, 0);
        if (text !== '') this.hasValue = true;
      }
    }
    this.column++;
  }
}

/**
 * Where the plain ASCII text of `<v>text</v></c>` starting at `at` ends (the offset of its `</v>`), or
 * -1: another shape, an empty value, a byte that needs decoding, or not all of it in `buf`.
 */
function plainValue(buf: Buffer, at: number, work: { scanned: number }): number {
  const n = buf.length;
  if (at + 3 > n || buf[at] !== LT || buf[at + 1] !== 0x76 || buf[at + 2] !== GT) return -1;
  const start = at + 3;
  let i = start;
  while (i < n && ((BYTE_CLASS[buf[i] as number] as number) & (TEXT_END | NOT_PLAIN)) === 0) i++;
  // Counted as examined again: the general path reads these bytes too when this declines.
  work.scanned += i - start;
  if (i === start || i + 8 > n || buf[i] !== LT) return -1;
  if (
    buf[i + 1] !== SLASH ||
    buf[i + 2] !== 0x76 ||
    buf[i + 3] !== GT ||
    buf[i + 4] !== LT ||
    buf[i + 5] !== SLASH ||
    buf[i + 6] !== 0x63 ||
    buf[i + 7] !== GT
  )
    return -1;
  return i;
}

/** The kind a one-letter `t` names (`s`, `n`, `b`, `e`, `d`), or -1 for any other letter. */
function kindLetter(letter: number): Kind | -1 {
  if (letter === 0x73) return Kind.Shared;
  if (letter === 0x6e) return Kind.Number;
  if (letter === 0x62) return Kind.Boolean;
  if (letter === 0x65) return Kind.Error;
  if (letter === 0x64) return Kind.Date;
  return -1;
}

function kindCode(kind: string): Kind {
  if (kind === 's') return Kind.Shared;
  switch (CELL_KINDS[kind] ?? 'string') {
    case 'number':
      return Kind.Number;
    case 'boolean':
      return Kind.Boolean;
    case 'error':
      return Kind.Error;
    case 'date':
      return Kind.Date;
    default:
      return Kind.String;
  }
}

/** The value of 1 to 9 plain ASCII digits at [start, end), or -1 for anything else (the caller decodes it). */
function plainDigits(buf: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 9) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = (buf[i] as number) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** A shared-string index as `Number()` reads its text: plain digits from the bytes, anything else decoded first. */
function indexValue(buf: Buffer, start: number, end: number): number {
  const value = plainDigits(buf, start, end);
  return value >= 0 ? value : Number((buf as AsciiSlicing).latin1Slice(start, end));
}

/**
 * The shared strings part (`xl/sharedStrings.xml`) → the text of each `<si>`: rich-text runs
 * (`<r><t>`) joined, phonetic hints (`<rPh>`) left out, as saxes read it before (the tests compare).
 */
export class SharedStringsScanner extends XmlPartScanner {
  /** Their UTF-8, as the cells that go to the database want them; decoded to text only when asked (`table()`). */
  private readonly builder = new SharedStringsBuilder();
  private inItem = false;
  private phonetic = 0;

  /** The strings read, once the part has ended. */
  table(): SharedStrings {
    return this.builder.build();
  }

  protected opened(tag: Tag, buf: Buffer, _nameEnd: number, end: number, selfClosing: boolean): number {
    switch (tag) {
      case Tag.StringItem:
        // The schema has no item inside an item: where one opens in another, which string is which is anyone's
        // guess (a general XML reader's answer and this one's differed), so the table is refused, not guessed.
        if (this.inItem) throw new SheetXmlError('it has a string item (<si>) inside another');
        if (selfClosing) this.builder.add('');
        else {
          const after = this.plainItem(buf, end + 1);
          if (after >= 0) return after;
          this.inItem = true;
          this.resetText();
        }
        break;
      case Tag.Phonetic:
        if (!selfClosing) this.phonetic++;
        break;
      case Tag.Text:
        if (!selfClosing && this.inItem && this.phonetic === 0) this.capture = true;
        break;
    }
    return -1;
  }

  /**
   * The rest of a string item shaped as most are, `<t>text</t></si>` (or `<t xml:space="preserve">`)
   * from `at`, read in one go, and the items like it that follow (`<si><t>…`): returns the offset past
   * the last one's `</si>`, or -1 to read the first construct by construct. The general scan reads
   * whatever stops the run from there.
   */
  private plainItem(buf: Buffer, at: number): number {
    let after = this.plainItemRest(buf, at);
    if (after < 0) return -1;
    const n = buf.length;
    // `<si>` then the rest of an item, while the items keep that shape.
    while (
      after + 4 <= n &&
      buf[after] === LT &&
      buf[after + 1] === 0x73 &&
      buf[after + 2] === 0x69 &&
      buf[after + 3] === GT
    ) {
      const next = this.plainItemRest(buf, after + 4);
      if (next < 0) break;
      after = next;
    }
    return after;
  }

  /** `<t …>text</t></si>` from `at`: adds the string and returns the offset past `</si>`, or -1 (nothing added). */
  private plainItemRest(buf: Buffer, at: number): number {
    if (at + 3 > buf.length || buf[at] !== LT || buf[at + 1] !== 0x74) return -1;
    const next = buf[at + 2];
    if (next !== GT && next !== 0x20) return -1;
    const tagClose = next === GT ? at + 2 : tagEnd(buf, at + 1);
    if (tagClose < 0 || buf[tagClose - 1] === SLASH) return -1;
    const start = tagClose + 1;
    const n = buf.length;
    let lt = start;
    // One pass finds the end and whether the bytes are their own text (isPlainAscii's test).
    let plain = true;
    for (; lt < n; lt++) {
      const kind = BYTE_CLASS[buf[lt] as number] as number;
      if ((kind & TEXT_END) !== 0) break;
      if ((kind & NOT_PLAIN) !== 0) plain = false;
    }
    this.work.scanned += lt - start;
    if (lt + 9 > n) return -1;
    if (
      buf[lt + 1] !== SLASH ||
      buf[lt + 2] !== 0x74 ||
      buf[lt + 3] !== GT ||
      buf[lt + 4] !== LT ||
      buf[lt + 5] !== SLASH ||
      buf[lt + 6] !== 0x73 ||
      buf[lt + 7] !== 0x69 ||
      buf[lt + 8] !== GT
    )
      return -1;
    if (plain) this.builder.addAscii(buf, start, lt);
    else this.builder.add(decodeText(buf, start, lt));
    return lt + 9;
  }

  protected closed(tag: Tag): void {
    switch (tag) {
      case Tag.Text:
        this.capture = false;
        break;
      case Tag.Phonetic:
        this.phonetic--;
        break;
      case Tag.StringItem:
        this.builder.add(this.capturedText());
        this.inItem = false;
        break;
    }
  }
}

/** Where the tag starting after `<` ends (its `>`), skipping quoted attribute values; -1 when incomplete. */
function tagEnd(buf: Buffer, from: number): number {
  let quote = 0;
  for (let i = from; i < buf.length; i++) {
    const byte = buf[i] as number;
    if (quote !== 0) {
      if (byte === quote) quote = 0;
    } else if (byte === GT) return i;
    else if (byte === QUOTE || byte === APOSTROPHE) quote = byte;
  }
  return -1;
}

function nameEndOf(buf: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && !isSpace(buf[i] as number) && buf[i] !== SLASH) i++;
  return i;
}

/** The element by its local name (after any namespace prefix). */
function tagOf(buf: Buffer, start: number, end: number): Tag {
  let from = start;
  for (let i = start; i < end; i++) if (buf[i] === COLON) from = i + 1;
  const length = end - from;
  const first = buf[from];
  if (length === 1) {
    if (first === 0x63) return Tag.Cell; // c
    if (first === 0x76) return Tag.Value; // v
    if (first === 0x74) return Tag.Text; // t
  } else if (length === 3) {
    if (first === 0x72 && buf[from + 1] === 0x6f && buf[from + 2] === 0x77) return Tag.Row; // row
    if (first === 0x72 && buf[from + 1] === 0x50 && buf[from + 2] === 0x68) return Tag.Phonetic; // rPh
  } else if (length === 2) {
    if (first === 0x69 && buf[from + 1] === 0x73) return Tag.InlineString; // is
    if (first === 0x73 && buf[from + 1] === 0x69) return Tag.StringItem; // si
  }
  return Tag.Other;
}

/**
 * The unprefixed one-letter attributes the scanner reads (row `r`; cell `r`, `t`, `s`), as their
 * values' start and end offsets in the tag's bytes (-1 when absent): most are read straight from
 * the bytes, and only the rare value with a reference in it is decoded to text.
 */
interface Attributes {
  rStart: number;
  rEnd: number;
  tStart: number;
  tEnd: number;
  sStart: number;
  sEnd: number;
}

/** One pass over the tag's attribute bytes; `into` (reused: one object per scanner) holds those it reads. */
function readAttributes(buf: Buffer, from: number, end: number, into: Attributes): Attributes {
  into.rStart = into.tStart = into.sStart = -1;
  into.rEnd = into.tEnd = into.sEnd = -1;
  let i = from;
  while (i < end) {
    while (i < end && isSpace(buf[i] as number)) i++;
    const nameStart = i;
    while (i < end && buf[i] !== EQUALS && !isSpace(buf[i] as number) && buf[i] !== SLASH) i++;
    const nameEnd = i;
    while (i < end && isSpace(buf[i] as number)) i++;
    if (buf[i] !== EQUALS) {
      if (nameEnd === nameStart) i++;
      continue;
    }
    i++;
    while (i < end && isSpace(buf[i] as number)) i++;
    const quote = buf[i];
    if (quote !== QUOTE && quote !== APOSTROPHE)
      throw new SheetXmlError('it has an attribute without quotes');
    // A loop, not Buffer#indexOf: for a value of a few bytes the native call costs more than the search.
    let valueEnd = i + 1;
    while (valueEnd < end && buf[valueEnd] !== quote) valueEnd++;
    if (valueEnd >= end) throw new SheetXmlError('it has an unterminated attribute value');
    if (nameEnd - nameStart === 1) {
      const letter = buf[nameStart];
      if (letter === 0x72) {
        into.rStart = i + 1;
        into.rEnd = valueEnd;
      } else if (letter === 0x74) {
        into.tStart = i + 1;
        into.tEnd = valueEnd;
      } else if (letter === 0x73) {
        into.sStart = i + 1;
        into.sEnd = valueEnd;
      }
    }
    i = valueEnd + 1;
  }
  return into;
}

/** An attribute value as `Number()` reads its text: plain digits from the bytes, anything else decoded first. */
function numberAttribute(buf: Buffer, start: number, end: number): number {
  const value = plainDigits(buf, start, end);
  return value >= 0 ? value : Number(decodeText(buf, start, end));
}

/** The 0-based column of a cell reference such as `C12` (columnIndex on the bytes), or -1 without letters. */
function columnAttribute(buf: Buffer, start: number, end: number): number {
  let column = 0;
  let i = start;
  for (; i < end; i++) {
    const code = (buf[i] as number) | 0x20;
    if (code < 0x61 || code > 0x7a) break;
    column = column * 26 + (code - 0x60);
  }
  // A reference could spell its letters as character references: read those the slow way.
  if (i < end && buf[i] === AMPERSAND) return columnIndex(decodeText(buf, start, end));
  return i === start ? -1 : column - 1;
}

/** The cell types (`t`) by their one letter, as written: `s`, `n`, `b`, `e`, `d`. */
const ONE_LETTER_KINDS: Record<number, string> = { 115: 's', 110: 'n', 98: 'b', 101: 'e', 100: 'd' };

function kindAttribute(buf: Buffer, start: number, end: number): string {
  return (
    (end - start === 1 ? ONE_LETTER_KINDS[buf[start] as number] : undefined) ?? decodeText(buf, start, end)
  );
}

function startsWith(buf: Buffer, pos: number, prefix: Buffer): boolean {
  if (buf.length - pos < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[pos + i] !== prefix[i]) return false;
  return true;
}

/** Whether the bytes from `pos` to the end (fewer than `<![CDATA[` has) could still become `<!--` or `<![CDATA[`. */
function isPrefix(buf: Buffer, pos: number): boolean {
  const rest = buf.subarray(pos);
  return (
    (rest.length < COMMENT_OPEN.length && COMMENT_OPEN.subarray(0, rest.length).equals(rest)) ||
    CDATA_OPEN.subarray(0, rest.length).equals(rest)
  );
}

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isSpace(buf[i] as number)) return false;
  return true;
}

/**
 * Where character data that runs on into the next chunk can be cut: before a UTF-8 sequence that may
 * be incomplete, a reference without its `;` yet, or a CR whose LF may follow.
 */
function textBoundary(buf: Buffer, from: number, end: number): number {
  let at = end;
  let i = at;
  while (i > from && at - i < 3 && ((buf[i - 1] as number) & 0xc0) === 0x80) i--;
  if (i > from && (buf[i - 1] as number) >= 0xc0) at = i - 1;
  const amp = buf.lastIndexOf(AMPERSAND, at - 1);
  if (amp >= from) {
    const semicolon = buf.indexOf(SEMICOLON, amp);
    if (semicolon < 0 || semicolon >= at) at = amp;
  }
  if (at > from && buf[at - 1] === CARRIAGE_RETURN) at--;
  return at;
}

/** Character data as XML reads it: CRLF and CR as LF, then entity and character references. */
function decodeText(buf: Buffer, start: number, end: number): string {
  // Most values are short ASCII without references (`42`, `7`): sliced without the UTF-8 decoder.
  if (end - start <= 32 && isPlainAscii(buf, start, end))
    return (buf as AsciiSlicing).latin1Slice(start, end);
  const text = normalizeLineEnds(buf.toString('utf8', start, end));
  return text.includes('&') ? decodeReferences(text) : text;
}

/** CRLF and a lone CR as LF, as an XML processor reads line ends before anything else. */
function normalizeLineEnds(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/** Node's native slicer without Buffer#toString's argument handling; not listed by @types/node. */
type AsciiSlicing = Buffer & { latin1Slice(start: number, end: number): string };

/**
 * Bytes below 0x80 other than `&`, CR and NUL: their text is the bytes themselves, and they can go to
 * PostgreSQL as they are (a NUL, which XML does not allow anyway, is left to the checks text gets).
 */
function isPlainAscii(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = buf[i] as number;
    if (byte >= 0x80 || byte === AMPERSAND || byte === CARRIAGE_RETURN || byte === 0) return false;
  }
  return true;
}

function decodeReferences(text: string): string {
  let out = '';
  let from = 0;
  for (let amp = text.indexOf('&'); amp >= 0; amp = text.indexOf('&', from)) {
    const semicolon = text.indexOf(';', amp + 1);
    if (semicolon < 0) throw new SheetXmlError('it has an unterminated entity reference');
    const name = text.slice(amp + 1, semicolon);
    let decoded: string | undefined;
    if (name.startsWith('#x') || name.startsWith('#X')) decoded = codePoint(name.slice(2), 16);
    else if (name.startsWith('#')) decoded = codePoint(name.slice(1), 10);
    else decoded = ENTITIES[name];
    if (decoded === undefined) throw new SheetXmlError(`it uses the undefined entity "&${name};"`);
    out += text.slice(from, amp) + decoded;
    from = semicolon + 1;
  }
  return out + text.slice(from);
}

function codePoint(digits: string, radix: number): string | undefined {
  if (digits === '' || !(radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) return undefined;
  const code = Number.parseInt(digits, radix);
  return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
    ? String.fromCodePoint(code)
    : undefined;
}

/** Batches of non-empty rows of the sheet, one batch per inflated chunk. */
export async function* sheetRows(
  archive: ZipArchive,
  entry: ArchiveEntry,
  sharedStrings: SharedStrings,
  sheetName: string,
  source: string,
): AsyncGenerator<SheetCells> {
  const scanner = new SheetScanner(sharedStrings);
  const check = () => {
    if (scanner.badStringIndex !== undefined) {
      throw new FormatError(
        'corrupt_xlsx',
        `The XLSX workbook is damaged: cell ${scanner.badStringIndex} of sheet "${sheetName}" refers to a shared string the workbook does not have. Save it again from Excel.`,
        { location: { source } },
      );
    }
  };
  try {
    // The sheet is the bulk of a workbook: it comes from the sequential pass over the file.
    for await (const chunk of archive.stream(entry, true)) {
      scanner.write(chunk);
      check();
      const cells = scanner.take();
      if (cells.rows > 0) yield cells;
    }
    scanner.end();
  } catch (error) {
    if (!(error instanceof SheetXmlError)) throw error;
    throw new FormatError(
      'corrupt_xlsx',
      `The XLSX workbook is damaged: its sheet "${sheetName}" is not valid XML (${error.message}). Send the file again.`,
      { cause: error, location: { source } },
    );
  }
  check();
  const cells = scanner.take();
  if (cells.rows > 0) yield cells;
}
