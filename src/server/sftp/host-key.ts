/**
 * The SFTP door's host key: partners pin its fingerprint the first time they connect, so it is generated
 * once (ed25519) and kept, mode 0600, in the data directory or wherever INLET_SFTP_HOST_KEY_FILE says (on
 * AWS, every instance writes the same key there from Secrets Manager).
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';
import { ConfigError } from '../../errors.js';
import { createFileOnce } from '../../storage/durable.js';
import { fingerprintOf } from './keys.js';

export interface HostKey {
  /** The private key in OpenSSH's format, as ssh2 takes it. */
  privateKey: string;
  /** `SHA256:…`, as `ssh-keygen -lf` and OpenSSH's "host key fingerprint" prompt print it. */
  fingerprint: string;
  type: string;
  /** Whether this start generated it. */
  generated: boolean;
}

export async function loadOrCreateHostKey(file: string): Promise<HostKey> {
  let text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new ConfigError('invalid_setting', `cannot read the SFTP host key ${file}: ${error.message}`);
  });
  let generated = false;
  if (text === undefined) {
    text = ssh2.utils.generateKeyPairSync('ed25519').private;
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // Whole or not at all (a start killed while writing it left a key the next start refused), and once: two
    // processes starting at once cannot each keep a different key; the loser reads the winner's.
    generated = await createFileOnce(file, text, 0o600);
    if (!generated) text = await readFile(file, 'utf8');
  }
  const parsed = ssh2.utils.parseKey(text);
  if (parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey()) {
    // An empty file is what a start stopped while writing a new key left, before keys were written whole.
    const reason =
      text.trim() === ''
        ? 'the file is empty'
        : parsed instanceof Error
          ? parsed.message
          : 'not a single private key';
    throw new ConfigError(
      'invalid_setting',
      `the SFTP host key ${file} cannot be read (${reason}): give an unencrypted OpenSSH private key ` +
        '(ssh-keygen -t ed25519 -N "" -f FILE), or remove the file to have one generated',
    );
  }
  return {
    privateKey: text,
    fingerprint: fingerprintOf(parsed.getPublicSSH()),
    type: parsed.type,
    generated,
  };
}
