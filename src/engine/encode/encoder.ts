import { isUtf8 } from 'node:buffer';
import { put32, putInt64 } from '../coerce/binary-int.js';
import { type Coercer, CopyTextBuffer, NEWLINE, TAB } from '../copy-text.js';
import type { RejectCollector } from '../rejects.js';
import { truncateValue } from '../rejects.js';
import { type ColumnPlan, REQUIRED_REASON } from './columns.js';
import type { DriftReport } from './drift.js';

/** COPY data is handed to PostgreSQL in pieces of about this size. */
export const FLUSH_BYTES = 256 * 1024;
const FIRST_BUFFER_BYTES = 16 * 1024;

export interface EncodeStats {
  /** Data records seen (header excluded), good or bad. */
  records: number;
  /** Records written as COPY rows. */
  good: number;
}

/**
 * Shared state of a row encoder: the COPY buffer, the per-column plan and where rejects go.
 * `withLineNumbers` appends the record and line numbers as last columns (the staging table keeps
 * them so that the last row of a key wins and problems found later in SQL can name their line).
 */
export class RowWriter {
  /**
   * Starts small and doubles as rows arrive, up to about twice FLUSH_BYTES for a large file: starting at
   * that size cost a small file 1 MiB of buffers (the first, and the one take() leaves behind), which for
   * thousands of 20-row uploads made garbage collection a third of the upload service's CPU time.
   */
  readonly out = new CopyTextBuffer(FIRST_BUFFER_BYTES);
  readonly stats: EncodeStats = { records: 0, good: 0 };
  /** How the file's columns differ from the contract, when it was loaded anyway (onDrift: ignoreExtra). */
  drift: DriftReport | undefined;
  private readonly binary: boolean;
  private readonly fieldCount: number;

  constructor(
    readonly plan: ColumnPlan,
    readonly rejects: RejectCollector,
    readonly withLineNumbers: boolean,
  ) {
    this.binary = plan.format === 'binary';
    this.fieldCount = plan.names.length + (withLineNumbers ? 2 : 0);
  }

  /** Starts a row; returns its start offset, which `reject` rewinds to. */
  startRow(): number {
    const out = this.out;
    const start = out.pos;
    if (this.binary) {
      out.ensure(2);
      out.buf[out.pos++] = this.fieldCount >> 8;
      out.buf[out.pos++] = this.fieldCount & 0xff;
    }
    return start;
  }

  /**
   * Writes column `c`'s value from `src[start, end)`, with its separator (text) or length prefix
   * (binary); returns a reason when the value is refused. Columns must come in order. `plain`: a number
   * the file holds as a number, read without the column's number format.
   */
  value(c: number, src: Uint8Array, start: number, end: number, plain = false): string | undefined {
    const plan = this.plan;
    const coercer = (plain ? plan.plainCoercers[c] : plan.coercers[c]) as Coercer;
    const out = this.out;
    let lengthAt = -1;
    if (this.binary) {
      out.ensure(4);
      lengthAt = out.pos;
      out.pos += 4;
    } else if (c > 0) {
      out.byte(TAB);
    }
    let reason: string | undefined;
    if (start !== end) {
      reason = coercer(src, start, end, out);
    } else {
      const fallback = plan.defaults[c];
      if (fallback !== undefined) reason = (plan.coercers[c] as Coercer)(fallback, 0, fallback.length, out);
      else if (plan.emptyNull[c]) return this.nullValue(c, lengthAt);
    }
    // Plain byte stores: Buffer's writeInt32BE checks its arguments on every call.
    if (lengthAt >= 0 && reason === undefined) put32(out.buf, lengthAt, out.pos - lengthAt - 4);
    return reason;
  }

  /** An absent value (a JSON null or missing field): the default, else NULL, whatever the type. */
  absent(c: number): string | undefined {
    const fallback = this.plan.defaults[c];
    if (fallback !== undefined) return this.value(c, fallback, 0, fallback.length);
    let lengthAt = -1;
    if (this.binary) {
      this.out.ensure(4);
      lengthAt = this.out.pos;
      this.out.pos += 4;
    } else if (c > 0) {
      this.out.byte(TAB);
    }
    return this.nullValue(c, lengthAt);
  }

  private nullValue(c: number, lengthAt: number): string | undefined {
    if (!this.plan.nullable[c]) return REQUIRED_REASON;
    if (lengthAt >= 0) put32(this.out.buf, lengthAt, -1);
    else this.out.nullValue();
    return undefined;
  }

  endRow(line: number | undefined): void {
    const out = this.out;
    if (this.withLineNumbers) {
      if (this.binary) {
        out.ensure(24);
        out.buf.writeInt32BE(8, out.pos);
        // Record and line numbers are safe integers: written without a BigInt each (two a row, every load).
        putInt64(out.buf, out.pos + 4, this.stats.records);
        out.pos += 12;
        if (line === undefined) {
          out.buf.writeInt32BE(-1, out.pos);
          out.pos += 4;
        } else {
          out.buf.writeInt32BE(8, out.pos);
          putInt64(out.buf, out.pos + 4, line);
          out.pos += 12;
        }
      } else {
        out.byte(TAB);
        out.ascii(String(this.stats.records));
        out.byte(TAB);
        if (line === undefined) out.nullValue();
        else out.ascii(String(line));
      }
    }
    if (!this.binary) out.byte(NEWLINE);
    this.stats.good++;
  }

  reject(
    rowStart: number,
    line: number | undefined,
    column: number | undefined,
    value: string | undefined,
    reason: string,
  ): void {
    this.out.pos = rowStart;
    this.rejects.add({
      line,
      record: this.stats.records,
      column: column === undefined ? undefined : this.plan.names[column],
      value: value === undefined ? undefined : truncateValue(value),
      reason,
    });
  }

  /** The accumulated COPY text when there is enough to send (or `force`), else undefined. */
  flush(force = false): Buffer | undefined {
    if (this.out.pos === 0 || (!force && this.out.pos < FLUSH_BYTES)) return undefined;
    return this.out.take();
  }
}

/** Why a field's bytes cannot go to PostgreSQL at all, or undefined when they can. */
export function byteProblem(
  src: Buffer,
  start: number,
  end: number,
  latin1Hint: boolean,
): string | undefined {
  const nul = src.indexOf(0, start);
  if (nul !== -1 && nul < end) return 'contains a NUL byte, which PostgreSQL cannot store in text';
  if (!isUtf8(src.subarray(start, end))) {
    return latin1Hint
      ? 'is not valid UTF-8 (if the file is Windows-1252 or Latin-1, set csv.encoding: windows1252 or latin1 in the pipeline)'
      : 'is not valid UTF-8';
  }
  return undefined;
}
