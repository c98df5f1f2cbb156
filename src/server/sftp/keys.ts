/**
 * SSH public keys as partners hand them over: the text of an OpenSSH `.pub` file (or several lines of an
 * `authorized_keys` file). Each key is kept as its type and its base64 blob, the two fields OpenSSH writes;
 * ssh2 parses them, so a key it could not verify a signature with is refused when it is added, not when
 * the partner first signs in.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import ssh2 from 'ssh2';
import { UsageError } from '../../errors.js';

export interface PublicKeyRecord {
  /** `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`… */
  type: string;
  /** The key as OpenSSH writes it after the type: base64 of the wire-format blob. */
  blob: string;
  comment: string;
  /** `SHA256:…`, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

/** `SHA256:` and the unpadded base64 of the blob's SHA-256, as OpenSSH prints fingerprints. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The public keys in the text of a key file; `where` names the file in errors. Blank lines and `#`
 * comments are skipped; a private key, an options prefix (`from=…`) or anything ssh2 cannot parse is
 * refused with the line it is on.
 */
export function parsePublicKeys(text: string, where: string): PublicKeyRecord[] {
  if (text.includes('PRIVATE KEY-----')) {
    throw new UsageError(
      'invalid_ssh_key',
      `${where} holds a private key: give the public half (the .pub file beside it, or ssh-keygen -y -f ${where})`,
    );
  }
  const keys: PublicKeyRecord[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parsed = ssh2.utils.parseKey(line);
    if (parsed instanceof Error || Array.isArray(parsed)) {
      const reason = parsed instanceof Error ? parsed.message : 'several keys on one line';
      throw new UsageError(
        'invalid_ssh_key',
        `${where}, line ${index + 1}: not an OpenSSH public key (${reason}); expected a line like ` +
          '"ssh-ed25519 AAAAC3Nza… name@host", as ssh-keygen writes into the .pub file',
      );
    }
    if (parsed.isPrivateKey()) {
      throw new UsageError(
        'invalid_ssh_key',
        `${where}, line ${index + 1}: a private key; give the .pub file`,
      );
    }
    const blob = parsed.getPublicSSH();
    keys.push({
      type: parsed.type,
      blob: blob.toString('base64'),
      comment: parsed.comment,
      fingerprint: fingerprintOf(blob),
    });
  });
  if (keys.length === 0) {
    throw new UsageError(
      'invalid_ssh_key',
      `${where} holds no public key; make one with ssh-keygen -t ed25519 and give the .pub file`,
    );
  }
  return keys;
}

/**
 * Whether the key a client offers is one of these, compared as bytes in constant time per candidate, so
 * how much of a key matched says nothing through the clock.
 */
export function matchingKey<K extends { type: string; blob: string }>(
  stored: readonly K[],
  offered: { algo: string; data: Buffer },
): K | undefined {
  let found: K | undefined;
  for (const key of stored) {
    const blob = Buffer.from(key.blob, 'base64');
    const same = blob.length === offered.data.length && timingSafeEqual(blob, offered.data);
    if (same && found === undefined) found = key;
  }
  return found;
}

/** Whether `signature` over `data` was made by the stored key: the client holds the private half. */
export function verifySignature(
  key: { type: string; blob: string },
  data: Buffer,
  signature: Buffer,
  hashAlgo: string | undefined,
): boolean {
  const parsed = ssh2.utils.parseKey(`${key.type} ${key.blob}`);
  if (parsed instanceof Error || Array.isArray(parsed)) return false;
  return parsed.verify(data, signature, hashAlgo) === true;
}
