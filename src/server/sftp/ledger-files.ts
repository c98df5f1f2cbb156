/**
 * What a partner sees of the ledger through SFTP: the files it sent into a pipeline (`/inbound/<p>/`, with
 * their sizes) and, once each is loaded, its result (`/outbound/<p>/<name>.result.json`, the ingestion as
 * `GET /v1/ingestions/{id}` shows it) and its rejected rows (`<name>.rejects.csv`, the API's CSV, formula
 * cells escaped). Only the rows of this user's own source URIs are read, so no partner sees another's files.
 */
import type pg from 'pg';
import { csvRow } from '../../ledger/csv-export.js';
import {
  eachReject,
  INGESTION_COLUMNS,
  type IngestionRow,
  ingestionView,
  REJECT_CSV_HEADER,
  rejectCsvLine,
  rejectView,
} from '../../ledger/read.js';
import { decodeKeyPath, encodeKeyPath } from '../../storage/uri-encoding.js';

/** How many files a folder lists at most: the most recent. */
export const LISTED_FILES = 500;
export const RESULT_SUFFIX = '.result.json';
export const REJECTS_SUFFIX = '.rejects.csv';
const FINAL = ['loaded', 'duplicate', 'superseded', 'rejected', 'failed'];

/** The identity the ledger knows an SFTP file by: `sftp://<user>/inbound/<pipeline>/<name>`, percent-encoded. */
export function sftpUri(user: string, pipeline: string, name: string): string {
  return `${folderUri(user, pipeline)}${encodeKeyPath(name)}`;
}

function folderUri(user: string, pipeline: string): string {
  return `sftp://${user}/${encodeKeyPath(`inbound/${pipeline}/`)}`;
}

export interface ReceivedFile {
  name: string;
  bytes: number;
  receivedAt: Date;
  /** The latest ingestion of this name. */
  row: IngestionRow;
}

/** The latest ingestion of each name the user sent into the pipeline, most recent first. */
export async function receivedFiles(pool: pg.Pool, user: string, pipeline: string): Promise<ReceivedFile[]> {
  const prefix = folderUri(user, pipeline);
  const { rows } = await pool.query<IngestionRow>(
    `SELECT * FROM (
       SELECT DISTINCT ON (source_uri) ${INGESTION_COLUMNS}
         FROM inlet.ingestions
        WHERE pipeline = $1 AND left(source_uri, $3) = $2
        ORDER BY source_uri, received_at DESC NULLS LAST, id DESC) latest
      ORDER BY received_at DESC NULLS LAST, id DESC
      LIMIT $4`,
    [pipeline, prefix, prefix.length, LISTED_FILES],
  );
  return rows.map((row) => ({
    name: decodeKeyPath(row.source_uri.slice(prefix.length)),
    bytes: Number(row.bytes ?? 0),
    receivedAt: row.received_at ?? row.started_at ?? new Date(0),
    row,
  }));
}

/** The latest ingestion of one name, or undefined when the user sent no file so named. */
export async function latestIngestion(
  pool: pg.Pool,
  user: string,
  pipeline: string,
  name: string,
): Promise<IngestionRow | undefined> {
  const { rows } = await pool.query<IngestionRow>(
    `SELECT ${INGESTION_COLUMNS} FROM inlet.ingestions WHERE pipeline = $1 AND source_uri = $2
      ORDER BY received_at DESC NULLS LAST, id DESC LIMIT 1`,
    [pipeline, sftpUri(user, pipeline, name)],
  );
  return rows[0];
}

export function isFinal(row: IngestionRow): boolean {
  return FINAL.includes(row.status);
}

/** `<name>.result.json`: the ingestion as the API shows it. */
export function resultJson(row: IngestionRow): Buffer {
  return Buffer.from(`${JSON.stringify(ingestionView(row), null, 2)}\n`);
}

/** `<name>.rejects.csv`: the API's CSV of the rejected rows (Inlet keeps at most the first of a file's rejects). */
export async function rejectsCsv(pool: pg.Pool, row: IngestionRow): Promise<Buffer> {
  const lines = [csvRow(REJECT_CSV_HEADER)];
  await eachReject(pool, row.id, null, (reject) => {
    lines.push(rejectCsvLine(rejectView(reject)));
  });
  return Buffer.from(lines.join(''));
}

/** The outbound files of a finished ingestion, by name. */
export function outboundNames(file: ReceivedFile): string[] {
  if (!isFinal(file.row)) return [];
  const names = [`${file.name}${RESULT_SUFFIX}`];
  if (Number(file.row.rows_rejected) > 0) names.push(`${file.name}${REJECTS_SUFFIX}`);
  return names;
}
