/**
 * What an archive snapshot records, and the names of the objects in the repository.
 *
 * Repository layout under the target's prefix:
 *   config                   plaintext JSON: format version, the HKDF salt, the key check, chunker sizes
 *   chunks/<2 hex>/<64 hex>  sealed chunk, named by the HMAC of its plaintext
 *   manifests/<id>           sealed manifest: every directory and file of the snapshot (small files inline)
 *   snapshots/<id>           sealed summary, written last: a snapshot exists once this object does
 *   locks/<kind>-<…>         who is creating or pruning right now
 *
 * Ids sort by creation time: `20260125T103000.123Z-9f3a1c2b` (UTC, milliseconds, then 32 random bits).
 */
import { randomBytes } from 'node:crypto';
import { SnapshotError } from '../errors.js';
import type { ChunkerParams } from './chunker.js';

export const REPOSITORY_FORMAT = 'inlet-snapshot-archive';
export const REPOSITORY_VERSION = 1;

export interface RepositoryConfig {
  readonly format: typeof REPOSITORY_FORMAT;
  readonly version: number;
  /** base64 */
  readonly salt: string;
  readonly keyCheck: string;
  readonly chunker: ChunkerParams;
  readonly createdAt: string;
}

export interface ManifestDir {
  /** Relative to the spool root, `/`-separated; '' is the root itself. */
  readonly path: string;
  readonly mode: number;
  readonly mtimeMs: number;
}

export interface ManifestFile {
  readonly path: string;
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
  /** Of the whole file's plaintext, hex. */
  readonly sha256: string;
  /** Chunk names in file order; empty for an empty or inlined file. */
  readonly chunks: readonly string[];
  /**
   * A small file's bytes (base64) kept in the manifest itself rather than as a chunk object: a spool has a
   * `meta.json` of a few hundred bytes per upload, and an object each would double the objects written.
   */
  readonly inline?: string;
  /** Where the file was when read, so the next snapshot can skip re-reading it if it is unchanged. */
  readonly dev: number;
  readonly ino: number;
  readonly ctimeMs: number;
}

export interface Manifest {
  readonly version: 1;
  readonly id: string;
  readonly createdAt: string;
  readonly host: string;
  /** The spool root that was snapshotted. */
  readonly source: string;
  readonly dirs: readonly ManifestDir[];
  readonly files: readonly ManifestFile[];
}

export interface Summary {
  readonly version: 1;
  readonly id: string;
  readonly createdAt: string;
  readonly host: string;
  readonly source: string;
  readonly files: number;
  readonly bytes: number;
  readonly bytesUploaded: number;
  /** Distinct chunks the manifest refers to. */
  readonly chunks: number;
  readonly chunksUploaded: number;
  readonly durationMs: number;
  /** SHA-256 of the sealed manifest object, binding this summary to exactly that manifest. */
  readonly manifestSha256: string;
}

export const keys = {
  config: (prefix: string) => `${prefix}config`,
  chunkPrefix: (prefix: string) => `${prefix}chunks/`,
  chunk: (prefix: string, name: string) => `${prefix}chunks/${name.slice(0, 2)}/${name}`,
  manifestPrefix: (prefix: string) => `${prefix}manifests/`,
  manifest: (prefix: string, id: string) => `${prefix}manifests/${id}`,
  summaryPrefix: (prefix: string) => `${prefix}snapshots/`,
  summary: (prefix: string, id: string) => `${prefix}snapshots/${id}`,
  lockPrefix: (prefix: string) => `${prefix}locks/`,
};

const ID_PATTERN = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}$/;
const CHUNK_NAME = /^[0-9a-f]{64}$/;

let lastIdMs = 0;

/** A new snapshot id; strictly later than the previous one made by this process. */
export function newSnapshotId(now: Date = new Date()): string {
  const ms = Math.max(now.getTime(), lastIdMs + 1);
  lastIdMs = ms;
  const stamp = new Date(ms).toISOString().replace(/[-:]/g, '');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

export function isSnapshotId(value: string): boolean {
  return ID_PATTERN.test(value);
}

export function snapshotIdTime(id: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z/.exec(id);
  if (m === null) throw new SnapshotError('snapshot_not_found', `"${id}" is not an archive snapshot id.`);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
}

export function isChunkName(value: string): boolean {
  return CHUNK_NAME.test(value);
}

/**
 * A path from a manifest, checked before it is joined to a restore directory: relative, `/`-separated, no
 * `.` or `..` segment, no NUL. The manifest is authenticated, so this guards against bugs, not attackers.
 */
export function isSafeRelativePath(value: string): boolean {
  if (value === '') return true;
  if (value.includes('\0') || value.startsWith('/') || value.includes('\\')) return false;
  return value.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

export function parseManifest(value: unknown, id: string): Manifest {
  const m = value as Partial<Manifest> | null;
  const fail = (why: string): never => {
    throw new SnapshotError('manifest_tampered', `the manifest of snapshot ${id} is not valid: ${why}.`);
  };
  if (m === null || typeof m !== 'object' || m.version !== 1) fail('unknown version');
  const manifest = m as Manifest;
  if (manifest.id !== id) fail(`it names snapshot ${String(manifest.id)}`);
  if (!Array.isArray(manifest.files) || !Array.isArray(manifest.dirs)) fail('no file list');
  for (const entry of [...manifest.dirs, ...manifest.files]) {
    if (typeof entry?.path !== 'string' || !isSafeRelativePath(entry.path)) {
      fail(`unsafe path ${JSON.stringify(entry?.path)}`);
    }
  }
  for (const file of manifest.files) {
    if (
      !Number.isSafeInteger(file.size) ||
      file.size < 0 ||
      !Array.isArray(file.chunks) ||
      !file.chunks.every((c) => typeof c === 'string' && isChunkName(c)) ||
      (file.inline !== undefined && (typeof file.inline !== 'string' || file.chunks.length > 0))
    ) {
      fail(`bad entry for ${file.path}`);
    }
  }
  return manifest;
}

export function parseSummary(value: unknown, id: string): Summary {
  const s = value as Partial<Summary> | null;
  if (
    s === null ||
    typeof s !== 'object' ||
    s.version !== 1 ||
    s.id !== id ||
    typeof s.createdAt !== 'string' ||
    typeof s.manifestSha256 !== 'string'
  ) {
    throw new SnapshotError('manifest_tampered', `the summary of snapshot ${id} is not valid.`);
  }
  return s as Summary;
}

export function parseRepositoryConfig(text: string, where: string): RepositoryConfig {
  let value: Partial<RepositoryConfig>;
  try {
    value = JSON.parse(text) as Partial<RepositoryConfig>;
  } catch (error) {
    throw new SnapshotError(
      'no_repository',
      `${where} is not an Inlet snapshot repository (unreadable config).`,
      {
        cause: error,
      },
    );
  }
  if (
    value.format !== REPOSITORY_FORMAT ||
    typeof value.salt !== 'string' ||
    typeof value.keyCheck !== 'string'
  ) {
    throw new SnapshotError('no_repository', `${where} is not an Inlet snapshot repository.`);
  }
  if (value.version !== REPOSITORY_VERSION) {
    throw new SnapshotError(
      'no_repository',
      `${where} holds snapshots in format version ${String(value.version)}; this Inlet reads version ${REPOSITORY_VERSION}: upgrade Inlet.`,
    );
  }
  return value as RepositoryConfig;
}
