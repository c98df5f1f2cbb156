/**
 * `inlet sftp-users add | add-key | list | remove` through the real `inlet` process, with keys made by
 * ssh-keygen at test time.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../../src/server/sftp/keys.js';
import { verifyPassword } from '../../../src/server/sftp/password.js';
import { inletArgs, jsonLines, ROOT } from '../../harness/cli.js';
import { cliWorkspace } from '../../harness/cli-workspace.js';

const cli = cliWorkspace('inlet-cli-sftp-users-');
const { inlet } = cli;

const CONFIG = `pipelines:
  - name: orders
    match: "orders*.csv"
    format: csv
    table: public.sftp_cli_orders
    columns:
      - { name: id, type: integer }
  - name: refunds
    match: "refunds*.csv"
    format: csv
    table: public.sftp_cli_refunds
    columns:
      - { name: id, type: integer }
`;

let config: string;
let keyA: string;
let keyB: string;

function keygen(name: string): string {
  const file = join(cli.dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@test`, '-f', file]);
  return file;
}

beforeAll(() => {
  config = join(cli.dir, 'inlet.config.yaml');
  writeFileSync(config, CONFIG);
  keyA = keygen('a_ed25519');
  keyB = keygen('b_ed25519');
});

/** What ssh-keygen -l prints for the key file: the fingerprint partners compare. */
function sshKeygenFingerprint(pub: string): string {
  return execFileSync('ssh-keygen', ['-l', '-f', pub], { encoding: 'utf8' }).split(' ')[1] as string;
}

describe('inlet sftp-users', () => {
  it('--help of each subcommand exits 0 with an example', async () => {
    for (const command of [[], ['add'], ['add-key'], ['list'], ['remove']]) {
      const run = await inlet('sftp-users', ...command, '--help');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('$ inlet sftp-users');
    }
  });

  it('adds a user with two keys and two pipelines, lists it with the fingerprints ssh-keygen prints, removes it', async () => {
    const add = await inlet(
      'sftp-users',
      'add',
      'acme',
      '--ssh-key',
      `${keyA}.pub`,
      '--ssh-key',
      `${keyB}.pub`,
      '--pipeline',
      'orders',
      '--pipeline',
      'refunds',
      '--config',
      config,
      '--json',
    );
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const [added] = jsonLines(add.stdout);
    expect(added).toMatchObject({ name: 'acme', pipelines: ['orders', 'refunds'], password: false });
    const fingerprints = ((added?.keys ?? []) as { fingerprint: string }[]).map((key) => key.fingerprint);
    expect(fingerprints).toEqual([sshKeygenFingerprint(`${keyA}.pub`), sshKeygenFingerprint(`${keyB}.pub`)]);
    const blob = Buffer.from(readFileSync(`${keyA}.pub`, 'utf8').split(' ')[1] as string, 'base64');
    expect(fingerprints[0]).toBe(fingerprintOf(blob));

    const stored = await cli.db.pool.query(
      'SELECT key_type, key_blob FROM inlet.sftp_user_keys ORDER BY added_at',
    );
    expect(stored.rows[0]).toEqual({ key_type: 'ssh-ed25519', key_blob: blob.toString('base64') });

    const again = await inlet(
      'sftp-users',
      'add',
      'acme',
      '--ssh-key',
      `${keyA}.pub`,
      '--pipeline',
      'orders',
      '--config',
      config,
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists already');

    const list = await inlet('sftp-users', 'list');
    expect(list.stdout).toContain('acme  pipelines orders, refunds');
    expect(list.stdout).toContain(fingerprints[1]);

    const removed = await inlet('sftp-users', 'remove', 'acme');
    expect(removed.code).toBe(0);
    expect((await cli.db.pool.query('SELECT * FROM inlet.sftp_user_keys')).rowCount).toBe(0);
    const gone = await inlet('sftp-users', 'remove', 'acme');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('no SFTP user "acme"');
  });

  it('add-key adds a key once', async () => {
    expect(
      (
        await inlet(
          'sftp-users',
          'add',
          'beta',
          '--ssh-key',
          `${keyA}.pub`,
          '--pipeline',
          'orders',
          '--config',
          config,
        )
      ).code,
    ).toBe(0);
    const first = await inlet(
      'sftp-users',
      'add-key',
      'beta',
      '--ssh-key',
      `${keyB}.pub`,
      '--ssh-key',
      `${keyA}.pub`,
    );
    expect(first.stdout).toContain('added 1 key to "beta" (1 it had already)');
    const list = jsonLines((await inlet('sftp-users', 'list', '--json')).stdout);
    expect(list.find((user) => user.name === 'beta')?.keys).toHaveLength(2);
    const unknown = await inlet('sftp-users', 'add-key', 'nobody', '--ssh-key', `${keyB}.pub`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no SFTP user "nobody"');
  });

  it('refuses a private key, a file that is not a key and a missing file, naming the file', async () => {
    const notKey = join(cli.dir, 'notes.txt');
    writeFileSync(notKey, 'hello\n');
    for (const [file, says] of [
      [keyA, 'holds a private key'],
      [notKey, 'line 1: not an OpenSSH public key'],
      [join(cli.dir, 'missing.pub'), 'cannot read the key file'],
    ] as const) {
      const run = await inlet(
        'sftp-users',
        'add',
        'gamma',
        '--ssh-key',
        file,
        '--pipeline',
        'orders',
        '--config',
        config,
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(file);
      expect(run.stderr).toContain(says);
    }
  });

  it('refuses an unknown pipeline, naming it and the closest one, and a bad user name', async () => {
    const run = await inlet(
      'sftp-users',
      'add',
      'delta',
      '--ssh-key',
      `${keyA}.pub`,
      '--pipeline',
      'order',
      '--config',
      config,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no pipeline "order" in the config (did you mean "orders"?)');
    const bad = await inlet(
      'sftp-users',
      'add',
      '../x',
      '--ssh-key',
      `${keyA}.pub`,
      '--pipeline',
      'orders',
      '--config',
      config,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('cannot be an SFTP user name');
  });

  it('sets a password from standard input, stored as an scrypt hash', async () => {
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        inletArgs(
          'sftp-users',
          'add',
          'legacy',
          '--pipeline',
          'orders',
          '--password-stdin',
          '--config',
          config,
        ),
        { cwd: ROOT, env: cli.env, timeout: 50_000 },
        (error, _stdout, stderr) => resolve({ code: error === null ? 0 : (error.code as number), stderr }),
      );
      child.stdin?.end('correct horse battery staple\n');
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { rows } = await cli.db.pool.query<{ password_hash: string }>(
      "SELECT password_hash FROM inlet.sftp_users WHERE name = 'legacy'",
    );
    expect(rows[0]?.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(rows[0]?.password_hash).not.toContain('horse');
    expect(await verifyPassword('correct horse battery staple', rows[0]?.password_hash ?? '')).toBe(true);
    expect(await verifyPassword('wrong horse battery staple', rows[0]?.password_hash ?? '')).toBe(false);
  });
});
