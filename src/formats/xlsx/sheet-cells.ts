/**
 * The cells of a batch of sheet rows in flat arrays, one entry per cell, instead of an object and a
 * string per cell: a load spent a fifth of its time collecting those. A cell's value stays where the
 * scanner found it: a shared string by its index, a short plain ASCII value (most numbers) as a range
 * of the inflated sheet's bytes, anything that needed decoding (references, CR, non-ASCII, CDATA,
 * several pieces) as a string. `SheetCellView` reads one cell as the `SheetCell` the rest of the reader
 * knows; `toRow()` builds a row as an object (the header), `toRows()` all of them (the tests).
 */
import type { SharedStrings } from './shared-strings.js';
import { type CellKind, type SheetCell, type SheetRow, XlsxCell } from './sheet.js';

/** Cell kinds as stored: `SHARED` is a string cell whose value is a shared-string index. */
export const Kind = { Number: 0, String: 1, Boolean: 2, Error: 3, Date: 4, Shared: 5 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

const KIND_NAMES: readonly CellKind[] = ['number', 'string', 'boolean', 'error', 'date', 'string'];

/** Node's native slicer without Buffer#toString's argument handling; not listed by @types/node. */
type AsciiSlicing = Buffer & { latin1Slice(start: number, end: number): string };

export class SheetCells {
  /**
   * Per row: its line in the sheet, where its cells end, whether their columns only ever increase.
   * Entries from `rows` (and per cell from `count`) on are left over from an earlier batch: the scanner
   * refills these arrays batch after batch rather than growing new ones (their growth was most of what
   * a load allocated), so their lengths are not the counts.
   */
  readonly lines: number[] = [];
  readonly rowEnds: number[] = [];
  readonly ordered: boolean[] = [];
  /** Per cell. `texts[i]` is its value when defined; else `srcs[i]` bytes [starts[i], ends[i]); else shared string `starts[i]`. */
  readonly columns: number[] = [];
  readonly kinds: Kind[] = [];
  readonly styles: number[] = [];
  readonly texts: (string | undefined)[] = [];
  readonly srcs: (Buffer | undefined)[] = [];
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  private rowCount = 0;
  private cellCount = 0;

  constructor(readonly sharedStrings: SharedStrings) {}

  get rows(): number {
    return this.rowCount;
  }

  get count(): number {
    return this.cellCount;
  }

  /** Adds a cell (every field written: a refilled entry keeps nothing of the cell it held). */
  addCell(
    column: number,
    kind: Kind,
    style: number,
    text: string | undefined,
    src: Buffer | undefined,
    start: number,
    end: number,
  ): void {
    const i = this.cellCount++;
    this.columns[i] = column;
    this.kinds[i] = kind;
    this.styles[i] = style;
    this.texts[i] = text;
    this.srcs[i] = src;
    this.starts[i] = start;
    this.ends[i] = end;
  }

  /** Ends a row at the cells added so far. */
  addRow(line: number, ordered: boolean): void {
    const row = this.rowCount++;
    this.lines[row] = line;
    this.rowEnds[row] = this.cellCount;
    this.ordered[row] = ordered;
  }

  /** Drops the cells from `count` on (those of a row that was not kept). */
  truncate(count: number): void {
    this.cellCount = count;
  }

  /** Empties it for the next batch, keeping its arrays. */
  clear(): void {
    this.rowCount = 0;
    this.cellCount = 0;
    this.lastCellsRow = -1;
  }

  /** Where row `row`'s cells start. */
  rowStart(row: number): number {
    return row === 0 ? 0 : (this.rowEnds[row - 1] as number);
  }

  /** The cell of `row` at 0-based `column` (the last one written there, as a sheet read into an array keeps), or -1. */
  find(row: number, column: number): number {
    const start = this.rowStart(row);
    const end = this.rowEnds[row] as number;
    const columns = this.columns;
    if (this.ordered[row]) {
      // Columns strictly increase, so the cell of column c is no further than c cells in.
      let i = Math.min(end - 1, start + column);
      while (i >= start && (columns[i] as number) > column) i--;
      return i >= start && columns[i] === column ? i : -1;
    }
    return this.lastCells(row).get(column) ?? -1;
  }

  /** For a row whose columns go back or repeat (a damaged or unusual sheet): its last cell per column, built once. */
  lastCells(row: number): Map<number, number> {
    if (this.lastCellsRow !== row) {
      this.lastCellsMap.clear();
      for (let i = this.rowStart(row); i < (this.rowEnds[row] as number); i++)
        this.lastCellsMap.set(this.columns[i] as number, i);
      this.lastCellsRow = row;
    }
    return this.lastCellsMap;
  }

  private lastCellsRow = -1;
  private readonly lastCellsMap = new Map<number, number>();

  kindName(cell: number): CellKind {
    return KIND_NAMES[this.kinds[cell] as Kind] as CellKind;
  }

  /** The cell's value as text. */
  text(cell: number): string {
    const text = this.texts[cell];
    if (text !== undefined) return text;
    const src = this.srcs[cell];
    if (src !== undefined)
      return (src as AsciiSlicing).latin1Slice(this.starts[cell] as number, this.ends[cell] as number);
    return this.sharedStrings.text(this.starts[cell] as number);
  }

  /** Whether the cell's value is the empty string. */
  isEmpty(cell: number): boolean {
    const text = this.texts[cell];
    if (text !== undefined) return text === '';
    if (this.srcs[cell] !== undefined) return this.starts[cell] === this.ends[cell];
    return this.sharedStrings.isEmpty(this.starts[cell] as number);
  }

  /** The rows as objects, cells by column, as the scanner gave them before it kept them flat (tests). */
  toRows(): SheetRow[] {
    return Array.from({ length: this.rows }, (_, row) => this.toRow(row));
  }

  /** Row `row` as an object (the header): only its own cells' text is made, shared strings decoded. */
  toRow(row: number): SheetRow {
    const cells: (XlsxCell | undefined)[] = [];
    for (let i = this.rowStart(row); i < (this.rowEnds[row] as number); i++) {
      cells[this.columns[i] as number] = new XlsxCell(
        this.kindName(i),
        this.text(i),
        this.styles[i] as number,
      );
    }
    return { line: this.lines[row] as number, cells };
  }
}

/**
 * One cell of a `SheetCells`, read through: the reader hands the same view for every cell it is asked
 * for (TableBatch.value), pointed at the cell, so that reading a sheet makes no object per cell.
 */
export class SheetCellView implements SheetCell {
  cells: SheetCells;
  index = 0;

  constructor(cells: SheetCells) {
    this.cells = cells;
  }

  get kind(): CellKind {
    return this.cells.kindName(this.index);
  }

  get text(): string {
    return this.cells.text(this.index);
  }

  get style(): number {
    return this.cells.styles[this.index] as number;
  }
}
