import type { PoolClient } from 'pg';
import type { RejectRecord } from '../model/ingestion.js';
import { pgText } from './pg-text.js';

/** How many rejects a result carries for display; all of them go to inlet.rejects for a loaded file. */
export const REJECT_SAMPLE_SIZE = 100;
/** Rejects are written to the database in batches of this size, so memory stays flat on a bad file. */
export const REJECT_FLUSH_SIZE = 2000;
const MAX_VALUE_CHARS = 200;

/** Raw values are kept short: enough to recognise, never a whole row of megabytes. */
export function truncateValue(value: string): string {
  return value.length > MAX_VALUE_CHARS ? `${value.slice(0, MAX_VALUE_CHARS)}…` : value;
}

export class RejectCollector {
  total = 0;
  readonly sample: RejectRecord[] = [];
  private pending: RejectRecord[] = [];

  add(reject: RejectRecord): void {
    this.total++;
    if (this.sample.length < REJECT_SAMPLE_SIZE) this.sample.push(reject);
    this.pending.push(reject);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  takePending(): RejectRecord[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }
}

export async function insertRejects(
  client: PoolClient,
  ingestionId: string,
  rejects: readonly RejectRecord[],
): Promise<void> {
  if (rejects.length === 0) return;
  await client.query(
    `INSERT INTO inlet.rejects (ingestion_id, line, record, column_name, raw_value, reason)
     SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])`,
    [
      ingestionId,
      rejects.map((r) => r.line ?? null),
      rejects.map((r) => r.record),
      // PostgreSQL text cannot hold NUL (pg-text.ts shows it as \0); the reason already says a value had one.
      rejects.map((r) => (r.column === undefined ? null : pgText(r.column))),
      rejects.map((r) => (r.value === undefined ? null : pgText(r.value))),
      rejects.map((r) => pgText(r.reason)),
    ],
  );
}
