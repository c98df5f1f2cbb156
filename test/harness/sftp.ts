/**
 * What the SFTP door's tests share: keys made with ssh-keygen at test time, users added through the same
 * code as `inlet sftp-users add`, the real OpenSSH client in batch mode (`sftp -b -`) with the server's host
 * key pinned in a known_hosts file (StrictHostKeyChecking=yes), and ssh2's client for what OpenSSH cannot be
 * made to send.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import ssh2, { type ConnectConfig } from 'ssh2';
import { afterAll, beforeAll } from 'vitest';
import { parsePublicKeys } from '../../src/server/sftp/keys.js';
import { addUser } from '../../src/server/sftp/users.js';

export interface KeyPair {
  /** The private key file, for `sftp -i`. */
  file: string;
  /** The public key file (`.pub`). */
  pub: string;
  privateKey: string;
}

/** A temporary folder for the keys, known_hosts and files of one test file. */
export function sftpWorkspace(prefix = 'inlet-sftp-') {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  const ready = () => {
    if (dir === undefined) throw new Error('the SFTP workspace is not ready');
    return dir;
  };
  return {
    get dir(): string {
      return ready();
    },
    /** A new ed25519 key pair made by ssh-keygen. */
    keygen(name: string, type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519'): KeyPair {
      const file = path.join(ready(), name);
      execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `${name}@test`, '-f', file]);
      return { file, pub: `${file}.pub`, privateKey: readFileSync(file, 'utf8') };
    },
    /** A known_hosts file that pins the host key at 127.0.0.1:port. */
    knownHosts(hostKeyFile: string, port: number): string {
      const pub = execFileSync('ssh-keygen', ['-y', '-f', hostKeyFile], { encoding: 'utf8' }).trim();
      const file = path.join(ready(), `known_hosts_${port}`);
      writeFileSync(file, `[127.0.0.1]:${port} ${pub}\n`);
      return file;
    },
    file(name: string, content: string | Buffer): string {
      const file = path.join(ready(), name);
      writeFileSync(file, content);
      return file;
    },
  };
}

export async function addSftpUser(
  pool: pg.Pool,
  name: string,
  pipelines: readonly string[],
  keys: readonly KeyPair[],
): Promise<void> {
  await addUser(pool, {
    name,
    pipelines,
    keys: keys.flatMap((key) => parsePublicKeys(readFileSync(key.pub, 'utf8'), key.pub)),
  });
}

export interface BatchRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `sftp -b -` with `commands` on standard input: OpenSSH stops at the first command that fails (exit 1)
 * unless the command starts with `-`. Bounded by `timeoutMs`.
 */
export function sftpBatch(options: {
  port: number;
  user: string;
  key: KeyPair;
  knownHosts: string;
  commands: readonly string[];
  cwd?: string;
  timeoutMs?: number;
}): Promise<BatchRun> {
  return new Promise((resolve) => {
    const child = execFile(
      'sftp',
      [
        '-b',
        '-',
        '-P',
        String(options.port),
        '-i',
        options.key.file,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${options.knownHosts}`,
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'IdentityAgent=none',
        '-o',
        'LogLevel=ERROR',
        '-F',
        '/dev/null',
        `${options.user}@127.0.0.1`,
      ],
      { cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(`${options.commands.join('\n')}\n`);
  });
}

/** An ssh2 client connection, signed in (or refused: the promise rejects with ssh2's error). */
export function sshConnect(config: ConnectConfig): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const timer = setTimeout(() => {
      client.end();
      reject(new Error('no SSH connection within 20 s'));
    }, 20_000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // A server that closes the connection at once (a blocked address) may send no error at all.
    client.once('close', () => {
      clearTimeout(timer);
      reject(new Error('the server closed the connection'));
    });
    client.connect({ host: '127.0.0.1', readyTimeout: 20_000, ...config });
  });
}
