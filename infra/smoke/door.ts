/**
 * A front door the smoke test sends a file through: how it sends, and how it reads that file's ledger
 * row back through a status API. Each environment (the local stack, a deployment) provides its doors.
 */

export const DOOR_IDS = ['s3', 'api', 'server', 'sftp'] as const;
export type DoorId = (typeof DOOR_IDS)[number];

export const DOOR_LABELS: Readonly<Record<DoorId, string>> = {
  s3: 'S3 put',
  api: 'API Gateway presigned upload',
  server: 'HTTPS server',
  sftp: 'SFTP',
};

/** The file one door sends: the object name pipelines route on, and its bytes. */
export interface SmokeFile {
  readonly name: string;
  readonly body: Buffer;
}

/** What a door got back when its upload was acknowledged: enough to find the ledger row. */
export interface Sent {
  /** The key or ingestion id the status API is asked about, for the report. */
  readonly reference: string;
}

/** A ledger row as the status APIs show it (src/ledger/read.ts IngestionView), the fields used here. */
export interface LedgerRow {
  readonly id: string;
  readonly status: string;
  readonly rowsLoaded: number;
  readonly rowsRejected: number;
  readonly source: string;
  readonly error?: { readonly code: string; readonly message: string };
}

/** Statuses after which a ledger row does not change. */
export const FINAL_STATUSES = new Set(['loaded', 'duplicate', 'superseded', 'rejected', 'failed']);
/** Final statuses that mean the file went through: loaded, or recognised as already loaded. */
export const PASSING_STATUSES = new Set(['loaded', 'duplicate']);

/** Why a door is not tried: it is not deployed, or it was left out (--doors). */
export interface Absence {
  readonly result: 'not deployed' | 'left out';
  readonly why: string;
}

export interface Door {
  readonly id: DoorId;
  /** Undefined when the door is tried. */
  readonly absent?: Absence;
  /** Sends the file; resolves once the door acknowledged it. */
  send(file: SmokeFile, signal: AbortSignal): Promise<Sent>;
  /** One look at the ledger: the file's row once final, else undefined. */
  ledgerRow(sent: Sent, signal: AbortSignal): Promise<LedgerRow | undefined>;
}

/** A door that is not tried, and why. */
export function absentDoor(id: DoorId, absent: Absence): Door {
  const never = () => Promise.reject(new Error(`${DOOR_LABELS[id]} is not tried: ${absent.why}`));
  return { id, absent, send: never, ledgerRow: never };
}

export const notDeployed = (why: string): Absence => ({ result: 'not deployed', why });

/** An error the report shows as it is: the message says what happened and what to do. */
export class SmokeError extends Error {
  override name = 'SmokeError';
}
