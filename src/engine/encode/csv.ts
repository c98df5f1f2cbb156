import { isUtf8 } from 'node:buffer';
import { FormatError } from '../../errors.js';
import { detectDelimiter } from '../../formats/csv/dialect.js';
import { CsvScanner } from '../../formats/csv/scanner.js';
import type { CsvOptions, Pipeline } from '../../model/contract.js';
import { extraValueReason, matchFields } from './drift.js';
import { byteProblem, FLUSH_BYTES, type RowWriter } from './encoder.js';

const LF = 0x0a;
/** What `delimiter: auto` looks at: a header and the first rows under it, whatever their width. */
const DIALECT_SAMPLE_BYTES = 64 * 1024;
/**
 * A read (1 MiB from a file) is scanned in slices, each piece handed over as soon as it is ready: the first
 * after this many bytes, so that PostgreSQL starts on the rows while the rest of the read is encoded, by
 * code still cold (a whole first read took 60-160 ms before the first byte went out); the others after
 * FLUSH_BYTES, so that the server's share overlaps the client's all along.
 */
const FIRST_SLICE_BYTES = 64 * 1024;

/** What `delimiter: auto` falls back on, and (filled in once the rows start) the delimiter read, for the ledger. */
export interface CsvDialect {
  /** The format's usual delimiter: `,` for CSV, a tab for TSV. */
  readonly preferred: string;
  delimiter?: string;
}

/**
 * CSV/TSV → COPY text. Works on the scanner's byte ranges: no string per field on the good path.
 * UTF-8 and NUL checks run once per buffer with native code; only a buffer that fails them
 * pays for a per-row check that names the offending column.
 */
export async function* encodeCsv(
  chunks: AsyncIterable<Buffer>,
  csv: CsvOptions,
  pipeline: Pipeline,
  writer: RowWriter,
  source: string,
  dialect: CsvDialect = { preferred: ',' },
): AsyncGenerator<Buffer> {
  let scanner = new CsvScanner({ ...csv, delimiter: csv.delimiter === 'auto' ? ',' : csv.delimiter, source });
  const plan = writer.plan;
  // Bytes that are not UTF-8 got past the text decoding only when UTF-8 was declared or detected.
  const utf8Hint = csv.encoding === 'utf8' || csv.encoding === 'auto';
  const columnCount = plan.names.length;
  const out = writer.out;
  let fieldIndex: Int32Array | undefined = csv.header ? undefined : identityMapping(columnCount);
  let expectedFields = columnCount;
  // onDrift: discardRow: the header's columns the contract does not name, and their names.
  let extra: readonly number[] = [];
  let extraNames: readonly string[] = [];
  let sawHeader = false;
  let checkedBuffer: Buffer | undefined;
  let cleanUpTo = 0;

  const onRow = (
    buf: Buffer,
    fieldCount: number,
    line: number,
    rowStart: number,
    rowEnd: number,
    problem?: string,
  ) => {
    if (fieldIndex === undefined) {
      const header = readHeader(buf, scanner, fieldCount);
      const match = matchFields(header, pipeline, { source, line, what: `The header (line ${line})` });
      fieldIndex = match.mapping;
      extra = match.extra;
      extraNames = extra.map((f) => header[f] as string);
      writer.drift = match.drift;
      expectedFields = fieldCount;
      sawHeader = true;
      return;
    }
    writer.stats.records++;
    if (problem !== undefined) {
      writer.reject(out.pos, line, undefined, buf.toString('utf8', rowStart, rowEnd), problem);
      return;
    }
    if (fieldCount !== expectedFields) {
      const reason = `has ${fieldCount} field${fieldCount === 1 ? '' : 's'}, expected ${expectedFields}${
        csv.header ? ' (as in the header)' : ''
      }`;
      writer.reject(out.pos, line, undefined, buf.toString('utf8', rowStart, rowEnd), reason);
      return;
    }
    for (let x = 0; x < extra.length; x++) {
      const f = extra[x] as number;
      if ((scanner.ends[f] as number) > (scanner.starts[f] as number)) {
        writer.reject(
          out.pos,
          line,
          undefined,
          buf.toString('utf8', rowStart, rowEnd),
          extraValueReason(extraNames[x] as string),
        );
        return;
      }
    }
    if (buf !== checkedBuffer) {
      checkedBuffer = buf;
      cleanUpTo = cleanPrefix(buf);
    }
    const mapping = fieldIndex;
    const starts = scanner.starts;
    const ends = scanner.ends;
    const careful = rowEnd >= cleanUpTo;
    const start = writer.startRow();
    for (let c = 0; c < columnCount; c++) {
      const f = mapping[c] as number;
      if (f < 0) {
        // A contract column the header lacks (onDrift: ignoreExtra): NULL or its default.
        const reason = writer.absent(c);
        if (reason === undefined) continue;
        writer.reject(start, line, c, undefined, reason);
        return;
      }
      const s = starts[f] as number;
      const e = ends[f] as number;
      const reason = (careful ? byteProblem(buf, s, e, utf8Hint) : undefined) ?? writer.value(c, buf, s, e);
      if (reason !== undefined) {
        writer.reject(start, line, c, buf.toString('utf8', s, Math.min(e, s + 1024)), reason);
        return;
      }
    }
    writer.endRow(line);
  };

  // The chunks are UTF-8 already (formats/text-encoding.ts). Under `delimiter: auto` the first are held
  // until they hold a line end, and the delimiter is read from them before any row is scanned.
  let held: Buffer[] | undefined = csv.delimiter === 'auto' ? [] : undefined;
  let heldBytes = 0;
  const start = (sample: Buffer, wholeFile: boolean) => {
    const delimiter = detectDelimiter(sample, {
      quote: csv.quote,
      escape: csv.escape,
      header: csv.header,
      expected: { names: plan.sources, fieldCount: columnCount },
      preferred: dialect.preferred,
      wholeFile,
    });
    dialect.delimiter = delimiter;
    scanner = new CsvScanner({ ...csv, delimiter, source });
    held = undefined;
  };
  if (held === undefined) dialect.delimiter = csv.delimiter;
  let slice = FIRST_SLICE_BYTES;
  let handedOver = false;
  for await (let chunk of chunks) {
    if (held !== undefined) {
      held.push(chunk);
      heldBytes += chunk.length;
      if (chunk.indexOf(LF) < 0 && heldBytes < DIALECT_SAMPLE_BYTES) continue;
      chunk = held.length === 1 ? chunk : Buffer.concat(held);
      start(chunk.subarray(0, DIALECT_SAMPLE_BYTES), false);
    }
    // A slice ends like a read: the scanner carries a row cut in two to the next one.
    for (let at = 0; at < chunk.length; ) {
      const end = Math.min(chunk.length, at + slice);
      scanner.push(at === 0 && end === chunk.length ? chunk : chunk.subarray(at, end), onRow);
      at = end;
      const ready = writer.flush(!handedOver);
      if (ready) {
        handedOver = true;
        slice = FLUSH_BYTES;
        yield ready;
      }
    }
  }
  if (held !== undefined) {
    const all = Buffer.concat(held);
    start(all, true);
    scanner.push(all, onRow);
  }
  scanner.finish(onRow);
  if (csv.header && !sawHeader) {
    throw new FormatError('empty_file', 'The file has no header row and no data: there is nothing to load.', {
      location: { source },
    });
  }
  const rest = writer.flush(true);
  if (rest) yield rest;
}

function identityMapping(count: number): Int32Array {
  const mapping = new Int32Array(count);
  for (let i = 0; i < count; i++) mapping[i] = i;
  return mapping;
}

/** Bytes before the last line feed that are valid UTF-8 without NULs; rows wholly inside need no per-row check. */
function cleanPrefix(buf: Buffer): number {
  const end = buf.lastIndexOf(LF) + 1;
  if (end === 0) return 0;
  const nul = buf.indexOf(0);
  if (nul !== -1 && nul < end) return 0;
  return isUtf8(buf.subarray(0, end)) ? end : 0;
}

function readHeader(buf: Buffer, scanner: CsvScanner, count: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(buf.toString('utf8', scanner.starts[i], scanner.ends[i]));
  return names;
}
