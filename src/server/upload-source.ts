import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ObjectSource } from '../model/ingestion.js';
import { encodeKeyPath } from '../storage/uri-encoding.js';
import type { SpoolEntry } from './spool.js';

/**
 * The URI an uploaded file is known by in the ledger: its client name under `upload:///`, percent-encoded
 * as every door encodes keys (encodeKeyPath). With the content hash it is the file's identity, so the same
 * bytes uploaded again under the same name are a duplicate, as for S3 objects and local files.
 */
export function uploadUri(name: string): string {
  return `upload:///${encodeKeyPath(name)}`;
}

/**
 * The URI a spool entry is known by: the one its door recorded in the sidecar (`sourceUri`, the SFTP door's
 * `sftp://<user>/inbound/<pipeline>/<name>`), else the upload API's `upload:///<name>`.
 */
export function entrySourceUri(entry: Pick<SpoolEntry, 'name' | 'meta'>): string {
  return entry.meta.sourceUri ?? uploadUri(entry.name);
}

/**
 * A spool entry as the engine reads it: the first `size` bytes of its file (the sidecar follows them), or the
 * bytes the accepting process still holds.
 */
export function uploadSource(entry: SpoolEntry): ObjectSource {
  const { content, size } = entry;
  const range = (start: number, end: number): Readable => {
    const stop = Math.min(end, size);
    if (content !== undefined)
      return Readable.from([content.subarray(start, Math.max(start, stop))], { objectMode: false });
    // createReadStream's end is inclusive, and it has no way to say "no bytes at all".
    if (stop <= start) return Readable.from([], { objectMode: false });
    return createReadStream(entry.path, { start, end: stop - 1 });
  };
  return {
    uri: entrySourceUri(entry),
    name: entry.name,
    size: entry.size,
    // The content hash taken while spooling: a second upload of a loaded file is a duplicate before a byte is read.
    etag: entry.sha256,
    sha256: entry.sha256,
    // Spool ids are time-ordered hex: a later upload of one name supersedes an earlier one in upsert and replace.
    order: entry.id.replaceAll('-', ''),
    receivedAt: entry.receivedAt,
    open: async () => range(0, size),
    // Parquet footers and XLSX directories are read in place rather than spooled a second time.
    openRange: async (start, end) => range(start, end),
  };
}
