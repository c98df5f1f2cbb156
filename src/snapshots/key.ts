/**
 * The archive snapshots' key: 32 bytes for AES-256-GCM (and the HMAC and chunker keys derived from it).
 *
 * Where it comes from, first found wins:
 * 1. `INLET_SNAPSHOT_KEY`: the key in base64 (`openssl rand -base64 32`);
 * 2. `INLET_SNAPSHOT_KEY_FILE`: a file holding that base64 text;
 * 3. `$INLET_DATA_DIR/snapshot.key`, the key `inlet dev` generated once (mode 0600), when it exists;
 * 4. under `inlet dev` only: a new key, written there.
 * Elsewhere a missing key is a ConfigError: a snapshot nobody can decrypt is no backup.
 *
 * The key is never stored beside the data: a key file inside the spool (it would travel inside every
 * snapshot) or inside a `file://` target is refused.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { createFileOnce } from '../storage/durable.js';

export const SNAPSHOT_KEY_BYTES = 32;
export const DEV_KEY_FILE = 'snapshot.key';

export interface LoadedKey {
  readonly key: Buffer;
  /** Where it came from, for messages (never the key itself). */
  readonly origin: string;
}

export interface LoadKeyOptions {
  /** The key in base64 (INLET_SNAPSHOT_KEY). */
  readonly key?: string | undefined;
  /** A file holding it (INLET_SNAPSHOT_KEY_FILE). */
  readonly keyFile?: string | undefined;
  readonly dataDir: string;
  /** `inlet dev`: make and keep a key when there is none. */
  readonly generate: boolean;
  /** Directories the key file must not be inside (the spool, a file:// target). */
  readonly forbiddenDirs?: readonly string[];
  readonly logger?: Logger;
}

export async function loadSnapshotKey(options: LoadKeyOptions): Promise<LoadedKey> {
  const inline = options.key?.trim();
  if (inline) return { key: parseKey(inline, 'INLET_SNAPSHOT_KEY'), origin: 'INLET_SNAPSHOT_KEY' };

  const named = options.keyFile?.trim();
  if (named) return readKeyFile(path.resolve(named), 'INLET_SNAPSHOT_KEY_FILE', options);

  const devFile = path.resolve(options.dataDir, DEV_KEY_FILE);
  const existing = await readKeyFile(devFile, 'the key inlet dev generated', options).catch(
    (error: unknown) => {
      if ((error as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') return undefined;
      throw error;
    },
  );
  if (existing !== undefined) return existing;
  if (!options.generate) {
    throw new ConfigError(
      'snapshot_key_missing',
      'archive snapshots need a key and none is set: put base64 of 32 random bytes (openssl rand -base64 32) ' +
        'in INLET_SNAPSHOT_KEY, or in a file named by INLET_SNAPSHOT_KEY_FILE. Keep a copy somewhere other ' +
        'than the snapshot target: without it the snapshots cannot be restored.',
    );
  }
  return generateKey(devFile, options);
}

/** Base64 (standard or URL alphabet) of exactly 32 bytes. */
export function parseKey(text: string, origin: string): Buffer {
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (key.length !== SNAPSHOT_KEY_BYTES) {
    throw new ConfigError(
      'snapshot_key_invalid',
      `${origin} must be base64 of ${SNAPSHOT_KEY_BYTES} bytes (44 characters, e.g. from openssl rand -base64 32), ` +
        `got ${key.length === 0 ? 'text that is not base64' : `${key.length} bytes`}.`,
    );
  }
  return key;
}

async function readKeyFile(file: string, origin: string, options: LoadKeyOptions): Promise<LoadedKey> {
  refuseBesideData(file, options.forbiddenDirs ?? []);
  let text: string;
  let mode: number;
  try {
    const handle = await fs.open(file, 'r');
    try {
      mode = (await handle.stat()).mode;
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new ConfigError(
      'snapshot_key_unreadable',
      `cannot read the snapshot key file ${file} (${origin}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  if ((mode & 0o077) !== 0) {
    options.logger?.warn('the snapshot key file can be read by other users: chmod 600 it', { file });
  }
  return { key: parseKey(text, `the key file ${file}`), origin: `${origin} (${file})` };
}

async function generateKey(file: string, options: LoadKeyOptions): Promise<LoadedKey> {
  refuseBesideData(file, options.forbiddenDirs ?? []);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const text = `${randomBytes(SNAPSHOT_KEY_BYTES).toString('base64')}\n`;
  // Whole or not at all: a process killed while writing it must not leave a key no one can read.
  if (!(await createFileOnce(file, text, 0o600))) {
    // Another process made it first: use theirs, so that both write snapshots the other can read.
    return readKeyFile(file, 'generated key', options);
  }
  options.logger?.info('generated the snapshot key; back it up: snapshots cannot be restored without it', {
    file,
  });
  return { key: parseKey(text, file), origin: `generated (${file})` };
}

function refuseBesideData(file: string, dirs: readonly string[]): void {
  for (const dir of dirs) {
    const rel = path.relative(path.resolve(dir), file);
    if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) {
      throw new ConfigError(
        'snapshot_key_beside_data',
        `the snapshot key file ${file} is inside ${path.resolve(dir)}, which is snapshotted or holds the snapshots: ` +
          'a key stored beside the data protects nothing. Move it elsewhere and point INLET_SNAPSHOT_KEY_FILE at it.',
      );
    }
  }
}
