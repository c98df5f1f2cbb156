/**
 * A workbook's shared strings, kept as one UTF-8 table (built as the part is read) and decoded to a JS
 * string only when something asks for one (the header, the text path, rejects, inference): the cells
 * that go to the database need only their bytes, and decoding 100,000 strings up front was a tenth of
 * a load. A decoded string is kept, so the worst case holds what reading them all eagerly held.
 */

/** Node's native decoder without Buffer#toString's argument handling; not listed by @types/node. */
type Utf8Slicing = Buffer & { utf8Slice(start: number, end: number): string };

export class SharedStrings {
  /** Strings decoded so far, by index, made on the first decode. */
  private decoded: (string | undefined)[] | undefined;
  /** How many strings were decoded: what the tests hold the laziness to. */
  decodes = 0;

  /**
   * @param bytes the strings' UTF-8, one after the other
   * @param offsets string i is bytes [offsets[i], offsets[i + 1])
   * @param nul 1 for a string with a NUL character: it takes the text path, which says so in its own words
   */
  constructor(
    readonly bytes: Buffer,
    readonly offsets: Int32Array,
    readonly nul: Uint8Array,
  ) {}

  /** The table of strings already in hand (tests, a workbook without the part). */
  static of(strings: readonly string[]): SharedStrings {
    const builder = new SharedStringsBuilder();
    for (const text of strings) builder.add(text);
    return builder.build();
  }

  get count(): number {
    return this.nul.length;
  }

  /** Whether `index` names a string, as indexing an array of them would find one (`-0` names string 0). */
  has(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.nul.length;
  }

  isEmpty(index: number): boolean {
    return this.offsets[index] === this.offsets[index + 1];
  }

  /** String `index` (which `has`), decoded on first ask. */
  text(index: number): string {
    if (this.decoded === undefined) this.decoded = new Array<string | undefined>(this.nul.length);
    const decoded = this.decoded;
    let text = decoded[index];
    if (text === undefined) {
      text = (this.bytes as Utf8Slicing).utf8Slice(
        this.offsets[index] as number,
        this.offsets[index + 1] as number,
      );
      decoded[index] = text;
      this.decodes++;
    }
    return text;
  }

  /** All of them as strings (tests). */
  toArray(): string[] {
    return Array.from({ length: this.count }, (_, i) => this.text(i));
  }
}

/**
 * Builds the table while the shared strings are read, from the bytes of the part where they are plain
 * ASCII (no decoding: the bytes are the text), so that no string need be made for them.
 */
export class SharedStringsBuilder {
  private bytes = Buffer.allocUnsafe(64 * 1024);
  private length = 0;
  private readonly offsets: number[] = [0];
  private readonly nul: number[] = [];

  /** A string whose text is `src[start, end)`, plain ASCII without NUL. */
  addAscii(src: Buffer, start: number, end: number): void {
    this.reserve(end - start);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = start; i < end; i++) bytes[at++] = src[i] as number;
    this.length = at;
    this.offsets.push(at);
    this.nul.push(0);
  }

  add(text: string): void {
    this.reserve(text.length * 3);
    this.length += this.bytes.write(text, this.length);
    this.offsets.push(this.length);
    this.nul.push(text.includes('\u0000') ? 1 : 0);
  }

  /** The table, its bytes copied to their size when growing left much room unused. */
  build(): SharedStrings {
    const used = this.bytes.subarray(0, this.length);
    const bytes = this.bytes.length - this.length > 64 * 1024 ? Buffer.from(used) : used;
    return new SharedStrings(bytes, Int32Array.from(this.offsets), Uint8Array.from(this.nul));
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + bytes));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }
}
