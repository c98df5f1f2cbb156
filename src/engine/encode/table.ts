import {
  ByteSpan,
  type CellConverter,
  CellProblem,
  NUL_IN_TEXT,
  PlainNumber,
  type TableReader,
} from '../../formats/table.js';
import type { Pipeline } from '../../model/contract.js';
import { extraValueReason, matchFields } from './drift.js';
import { byteProblem, type RowWriter } from './encoder.js';
import { type TypedWriter, typedWriter } from './typed.js';

/**
 * Node's string encoders without Buffer#write's argument parsing, which costs more than encoding a
 * short cell. On every Buffer since Node's first releases; @types/node does not list them.
 */
type ScratchBuffer = Buffer & {
  latin1Write(text: string, offset: number): number;
  utf8Write(text: string, offset: number): number;
};

/**
 * Rows of a binary tabular format (Parquet, XLSX) → COPY data. Columns are matched by name as for a
 * CSV header (drift rules included); each cell becomes text through its format's converter and then
 * goes through the contract column's coercer, so rejects, thresholds and COPY are the same as CSV's.
 * In binary COPY, values whose result is certain skip the text (typed.ts) and are written directly.
 */
export async function* encodeTable(
  reader: TableReader,
  pipeline: Pipeline,
  writer: RowWriter,
  source: string,
): AsyncGenerator<Buffer> {
  const plan = writer.plan;
  const columnCount = plan.names.length;
  const match = matchFields(reader.fields, pipeline, { source, ...reader.header });
  writer.drift = match.drift;
  const mapping = match.mapping;
  const converters: (CellConverter | undefined)[] = pipeline.columns.map((column, c) => {
    const field = mapping[c] as number;
    return field < 0 ? undefined : reader.converter(field, column);
  });
  const ascii = converters.map((convert) => convert?.ascii === true);
  // Binary COPY takes typed values straight from the decoded columns where the types allow.
  const cellTypes = pipeline.columns.map((_, c) => {
    const field = mapping[c] as number;
    return field < 0 || plan.format !== 'binary' ? undefined : reader.cellType?.(field);
  });
  // XLSX cells' writers are loaded only when a sheet is read, as its reader is: CSV never compiles them.
  const sheet = cellTypes.some((cell) => cell?.kind === 'sheet')
    ? await import('./sheet-typed.js')
    : undefined;
  const typed: (TypedWriter | undefined)[] = pipeline.columns.map((column, c) => {
    const cell = cellTypes[c];
    if (cell === undefined) return undefined;
    return cell.kind === 'sheet' ? sheet?.sheetWriter(cell, column) : typedWriter(cell, column);
  });
  // onDrift: discardRow reads the columns the contract does not name too, to reject the rows with a value there.
  const extra = match.extra;
  const used = [...new Set([...mapping].filter((f) => f >= 0)), ...extra];
  const out = writer.out;
  let scratch = Buffer.allocUnsafe(4096) as ScratchBuffer;

  for await (const batch of reader.batches(used)) {
    for (let row = 0; row < batch.rows; row++) {
      writer.stats.records++;
      const line = batch.line(row);
      const problem = batch.problem?.(row);
      if (problem !== undefined) {
        writer.reject(out.pos, line, undefined, undefined, problem);
        continue;
      }
      // Only under onDrift: discardRow; every other row of every file skips the search (and its closure).
      const valued =
        extra.length === 0
          ? undefined
          : extra.find((field) => !(batch.blank?.(field, row) ?? isNullish(batch.value(field, row))));
      if (valued !== undefined) {
        writer.reject(out.pos, line, undefined, undefined, extraValueReason(reader.fields[valued] as string));
        continue;
      }
      const start = writer.startRow();
      let rejected = false;
      for (let c = 0; c < columnCount; c++) {
        const field = mapping[c] as number;
        const value = field < 0 ? undefined : batch.value(field, row);
        if (value === undefined || value === null) {
          const reason = writer.absent(c);
          if (reason !== undefined) {
            writer.reject(start, line, c, undefined, reason);
            rejected = true;
            break;
          }
          continue;
        }
        if (typed[c]?.(value, out)) continue;
        let text = (converters[c] as CellConverter)(value);
        // A number the file holds as a number: read without the column's format, which is for text.
        const plain = text instanceof PlainNumber;
        if (text instanceof PlainNumber) text = text.text;
        let reason: string | undefined;
        let bytes: Uint8Array;
        let length: number;
        if (text instanceof CellProblem) {
          writer.reject(start, line, c, text.raw, text.reason);
          rejected = true;
          break;
        }
        if (text instanceof ByteSpan) {
          const { src, start: from, end: to } = text;
          reason = text.valid
            ? undefined
            : byteProblem(Buffer.from(src.buffer, src.byteOffset, src.byteLength), from, to, false);
          reason ??= writer.value(c, src, from, to, plain);
          if (reason !== undefined) {
            // The whole value, as the text it stands for: what a string would have shown.
            writer.reject(
              start,
              line,
              c,
              Buffer.from(src.buffer, src.byteOffset, src.byteLength).toString('utf8', from, to),
              reason,
            );
            rejected = true;
            break;
          }
          continue;
        }
        if (typeof text === 'string') {
          // At most three UTF-8 bytes per UTF-16 unit (a surrogate pair is four bytes for two units).
          const most = ascii[c] ? text.length : text.length * 3;
          if (most > scratch.length)
            scratch = Buffer.allocUnsafe(Math.max(most, scratch.length * 2)) as ScratchBuffer;
          bytes = scratch;
          if (ascii[c]) length = scratch.latin1Write(text, 0);
          else {
            length = scratch.utf8Write(text, 0);
            if (text.includes('\u0000')) reason = NUL_IN_TEXT;
          }
        } else {
          bytes = text;
          length = text.length;
          reason = byteProblem(Buffer.from(text.buffer, text.byteOffset, text.byteLength), 0, length, false);
        }
        reason ??= writer.value(c, bytes, 0, length, plain);
        if (reason !== undefined) {
          const raw =
            typeof text === 'string'
              ? text
              : Buffer.from(text.buffer, text.byteOffset, Math.min(length, 1024)).toString('utf8');
          writer.reject(start, line, c, raw, reason);
          rejected = true;
          break;
        }
      }
      if (!rejected) writer.endRow(line);
      const ready = writer.flush();
      if (ready) yield ready;
    }
  }
  const rest = writer.flush(true);
  if (rest) yield rest;
}

function isNullish(value: unknown): boolean {
  return value === undefined || value === null;
}
