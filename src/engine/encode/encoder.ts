import { isUtf8 } from 'node:buffer';
import { CopyTextBuffer, NEWLINE, TAB } from '../copy-text.js';
import type { RejectCollector } from '../rejects.js';
import { truncateValue } from '../rejects.js';
import { type ColumnPlan, REQUIRED_REASON } from './columns.js';

/** COPY text is handed to PostgreSQL in pieces of about this size. */
export const FLUSH_BYTES = 256 * 1024;

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
  readonly out = new CopyTextBuffer(FLUSH_BYTES * 2);
  readonly stats: EncodeStats = { records: 0, good: 0 };

  constructor(
    readonly plan: ColumnPlan,
    readonly rejects: RejectCollector,
    readonly withLineNumbers: boolean,
  ) {}

  /**
   * Writes one value for column `c` from `src[start, end)`; returns a reason when it is refused.
   * The caller has already written the separator.
   */
  value(c: number, src: Uint8Array, start: number, end: number): string | undefined {
    const plan = this.plan;
    if (start === end) {
      const fallback = plan.defaults[c];
      if (fallback !== undefined)
        return (plan.coercers[c] as (typeof plan.coercers)[number])(fallback, 0, fallback.length, this.out);
      if (!plan.emptyNull[c]) return undefined;
      if (!plan.nullable[c]) return REQUIRED_REASON;
      this.out.nullValue();
      return undefined;
    }
    return (plan.coercers[c] as (typeof plan.coercers)[number])(src, start, end, this.out);
  }

  /** An absent value (a JSON null or missing field): the default, else NULL, whatever the type. */
  absent(c: number): string | undefined {
    const fallback = this.plan.defaults[c];
    if (fallback !== undefined) return this.value(c, fallback, 0, fallback.length);
    if (!this.plan.nullable[c]) return REQUIRED_REASON;
    this.out.nullValue();
    return undefined;
  }

  endRow(line: number | undefined): void {
    const out = this.out;
    if (this.withLineNumbers) {
      out.byte(TAB);
      out.ascii(String(this.stats.records));
      out.byte(TAB);
      if (line === undefined) out.nullValue();
      else out.ascii(String(line));
    }
    out.byte(NEWLINE);
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
      ? 'is not valid UTF-8 (if the file is Latin-1, set csv.encoding: latin1 in the pipeline)'
      : 'is not valid UTF-8';
  }
  return undefined;
}
