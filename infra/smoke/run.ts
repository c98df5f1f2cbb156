/**
 * Sends one file through each door at once and waits, within the deadline, for each file's final ledger
 * row. A door passes when its row says the file loaded; anything else (refused, rejected, failed, no row
 * in time) fails it, with what the door or the ledger said.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Absence,
  type Door,
  type DoorId,
  FINAL_STATUSES,
  type LedgerRow,
  PASSING_STATUSES,
  type SmokeFile,
} from './door.js';

export interface DoorResult {
  readonly door: DoorId;
  readonly outcome: 'pass' | 'fail' | Absence['result'];
  /** From the start to the door's acknowledgement. */
  readonly sendMs?: number;
  /** From the start to the final ledger row (or the failure). */
  readonly totalMs?: number;
  readonly detail: string;
}

export interface RunOptions {
  /** Per door, from its start to its final ledger row. */
  readonly timeoutMs: number;
  /** Between two looks at the ledger. */
  readonly pollMs: number;
}

export function runDoors(
  doors: readonly Door[],
  fileFor: (door: DoorId) => SmokeFile,
  options: RunOptions,
): Promise<DoorResult[]> {
  return Promise.all(doors.map((door) => runDoor(door, fileFor(door.id), options)));
}

async function runDoor(door: Door, file: SmokeFile, options: RunOptions): Promise<DoorResult> {
  if (door.absent !== undefined)
    return { door: door.id, outcome: door.absent.result, detail: door.absent.why };
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
  let sendMs: number | undefined;
  try {
    const sent = await door.send(file, deadline.signal);
    sendMs = elapsed();
    let row: LedgerRow | undefined;
    // Bounded twice: by the deadline, and by the number of looks it leaves room for.
    const looks = Math.ceil(options.timeoutMs / options.pollMs) + 1;
    for (let look = 0; look < looks && !deadline.signal.aborted; look++) {
      row = await door.ledgerRow(sent, deadline.signal);
      if (row !== undefined && FINAL_STATUSES.has(row.status)) break;
      await sleep(options.pollMs, undefined, { signal: deadline.signal }).catch(() => undefined);
    }
    if (row === undefined || !FINAL_STATUSES.has(row.status)) {
      const seen =
        row === undefined
          ? 'no ledger row (a name no pipeline matches leaves none; so does a file never delivered)'
          : `still ${row.status}`;
      return fail(
        door.id,
        sendMs,
        elapsed(),
        `${seen} after ${options.timeoutMs / 1000} s for ${sent.reference}`,
      );
    }
    const detail = describeRow(row);
    return PASSING_STATUSES.has(row.status)
      ? { door: door.id, outcome: 'pass', sendMs, totalMs: elapsed(), detail }
      : fail(door.id, sendMs, elapsed(), detail);
  } catch (error) {
    const message = deadline.signal.aborted
      ? `no answer within ${options.timeoutMs / 1000} s (${(error as Error).message})`
      : (error as Error).message;
    return fail(door.id, sendMs, elapsed(), message);
  } finally {
    clearTimeout(timer);
  }
}

function fail(door: DoorId, sendMs: number | undefined, totalMs: number, detail: string): DoorResult {
  return { door, outcome: 'fail', ...(sendMs === undefined ? {} : { sendMs }), totalMs, detail };
}

function describeRow(row: LedgerRow): string {
  const rows = `${row.rowsLoaded} row${row.rowsLoaded === 1 ? '' : 's'} loaded`;
  const rejected = row.rowsRejected > 0 ? `, ${row.rowsRejected} rejected` : '';
  const error = row.error ? `: ${row.error.code} ${row.error.message}` : '';
  return `${row.status}${error} (${rows}${rejected}; ingestion ${row.id}, ${row.source})`;
}
