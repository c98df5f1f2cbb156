/**
 * The archive's cryptography, all from node:crypto:
 * - keys derived from the 32-byte snapshot key with HKDF-SHA256 and the repository's random salt: one for
 *   AES-256-GCM, one for naming chunks (HMAC-SHA256), one seeding the chunker's gear table, one for the key
 *   check. Separate keys mean a chunk name reveals nothing about the encryption key and vice versa;
 * - a chunk's name is the HMAC of its plaintext, so equal content dedupes and the name says nothing about
 *   the content to anyone without the key (a plain hash would let anyone confirm a guessed file);
 * - every object (chunk, manifest, summary) is sealed with AES-256-GCM under a random 96-bit nonce, with
 *   its kind and name as associated data: a chunk copied over another, or a manifest swapped for another
 *   snapshot's, fails authentication instead of restoring the wrong bytes.
 *
 * Sealed layout: `ILS1` | flags (1 byte, bit 0: gzip) | nonce (12) | ciphertext | GCM tag (16). The magic
 * and flags are authenticated too. Random 96-bit nonces stay safe up to about 2^32 objects per key
 * (NIST SP 800-38D), far more than a spool's snapshots ever write.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { SnapshotError } from '../errors.js';

export type SealedKind = 'chunk' | 'manifest' | 'summary' | 'lock';

export interface ArchiveKeys {
  readonly encryption: Buffer;
  readonly naming: Buffer;
  /** 256 pseudo-random 32-bit values for the content-defined chunker. */
  readonly gear: Uint32Array;
  /** Proves a key opens this repository without decrypting anything: HMAC over the salt. */
  readonly check: string;
}

const MAGIC = Buffer.from('ILS1');
const HEADER_BYTES = MAGIC.length + 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const FLAG_GZIP = 1;
/** Larger manifests and summaries are gzipped: hex names and JSON keys compress about 2:1. */
const GZIP_ABOVE = 1024;

export const SEAL_OVERHEAD = HEADER_BYTES + NONCE_BYTES + TAG_BYTES;

export function deriveKeys(master: Buffer, salt: Buffer): ArchiveKeys {
  const derive = (info: string, length: number) =>
    Buffer.from(hkdfSync('sha256', master, salt, `inlet-snapshot v1 ${info}`, length));
  const gearBytes = derive('chunker gear', 1024);
  const gear = new Uint32Array(256);
  for (let i = 0; i < 256; i++) gear[i] = gearBytes.readUInt32LE(i * 4);
  return {
    encryption: derive('encryption', 32),
    naming: derive('chunk names', 32),
    gear,
    check: createHmac('sha256', derive('key check', 32)).update(salt).digest('hex').slice(0, 32),
  };
}

/** The chunk's content address: 64 hex characters that only a holder of the key can compute. */
export function chunkName(keys: ArchiveKeys, plaintext: Uint8Array): string {
  return createHmac('sha256', keys.naming).update(plaintext).digest('hex');
}

export function checksMatch(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function seal(keys: ArchiveKeys, kind: SealedKind, name: string, plaintext: Buffer): Buffer {
  const compress = kind !== 'chunk' && plaintext.length > GZIP_ABOVE;
  const body = compress ? gzipSync(plaintext, { level: 6 }) : plaintext;
  const header = Buffer.concat([MAGIC, Buffer.from([compress ? FLAG_GZIP : 0])]);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keys.encryption, nonce);
  cipher.setAAD(associatedData(header, kind, name));
  const encrypted = cipher.update(body);
  const final = cipher.final();
  return Buffer.concat([header, nonce, encrypted, final, cipher.getAuthTag()]);
}

/**
 * The plaintext, or a SnapshotError (`chunk_tampered` / `manifest_tampered`) when the bytes were changed,
 * belong to another object, or were sealed with another key. `what` names the object in the message.
 */
export function unseal(
  keys: ArchiveKeys,
  kind: SealedKind,
  name: string,
  sealed: Buffer,
  what: string,
): Buffer {
  const code = kind === 'chunk' ? 'chunk_tampered' : 'manifest_tampered';
  if (sealed.length < SEAL_OVERHEAD || !sealed.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new SnapshotError(code, `${what} is not an Inlet snapshot object (damaged or replaced).`);
  }
  const header = sealed.subarray(0, HEADER_BYTES);
  const flags = header[MAGIC.length] ?? 0;
  const nonce = sealed.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', keys.encryption, nonce);
  decipher.setAAD(associatedData(header, kind, name));
  decipher.setAuthTag(tag);
  let body: Buffer;
  try {
    body = Buffer.concat([
      decipher.update(sealed.subarray(HEADER_BYTES + NONCE_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (error) {
    throw new SnapshotError(
      code,
      `${what} failed authentication: it was modified, damaged, or put in another object's place.`,
      { cause: error },
    );
  }
  return (flags & FLAG_GZIP) !== 0 ? gunzipSync(body) : body;
}

function associatedData(header: Buffer, kind: SealedKind, name: string): Buffer {
  return Buffer.concat([header, Buffer.from(`\0${kind}\0${name}`)]);
}
