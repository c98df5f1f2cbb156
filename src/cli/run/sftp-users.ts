import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { InletError, UsageError } from '../../errors.js';
import { isUndefinedTable } from '../../ledger/read.js';
import { closest } from '../../model/suggest.js';
import { type PublicKeyRecord, parsePublicKeys } from '../../server/sftp/keys.js';
import { hashPassword } from '../../server/sftp/password.js';
import {
  addKeys,
  addUser,
  checkUserName,
  listUsers,
  removeUser,
  type SftpUser,
} from '../../server/sftp/users.js';
import { withDatabase } from '../database.js';
import { databaseUrlOf } from '../options.js';
import { cliLogger, colourEnabled, paint, print } from '../output.js';
import { namedConfig } from '../settings.js';

interface AddOptions {
  sshKey?: string[];
  pipeline?: string[];
  passwordStdin?: boolean;
  config?: string;
  databaseUrl?: string;
  json?: boolean;
}

interface DatabaseOnly {
  databaseUrl?: string;
  sshKey?: string[];
  json?: boolean;
}

export async function runAdd(name: string, options: AddOptions, command: Command): Promise<number> {
  checkUserName(name);
  const pipelines = options.pipeline ?? [];
  if (pipelines.length === 0) {
    throw new UsageError(
      'invalid_argument',
      'give the pipelines the user may write: --pipeline NAME (repeat for several)',
    );
  }
  const config = await loadConfig(namedConfig(options.config));
  const known = config.pipelines.map((p) => p.name);
  for (const pipeline of pipelines) {
    if (!known.includes(pipeline)) {
      const hint = closest(pipeline, known);
      throw new UsageError(
        'invalid_argument',
        `no pipeline "${pipeline}" in the config${hint === undefined ? '' : ` (did you mean "${hint}"?)`}; ` +
          `it has: ${known.join(', ')}`,
      );
    }
  }
  const keys = await readKeyFiles(options.sshKey ?? []);
  if (keys.length === 0 && !options.passwordStdin) {
    throw new UsageError(
      'invalid_argument',
      'give the user a public key: --ssh-key FILE.pub (make one with ssh-keygen -t ed25519), or a password with --password-stdin',
    );
  }
  const passwordHash = options.passwordStdin ? await hashPassword(await readPassword()) : undefined;
  const user = await withDatabase(
    { databaseUrl: databaseUrlOf(options, command), logger: cliLogger(), migrate: true },
    (db) =>
      addUser(db.pool, { name, pipelines, keys, ...(passwordHash === undefined ? {} : { passwordHash }) }),
  );
  if (options.json) {
    await print(JSON.stringify(toJson(user)));
    return 0;
  }
  await print(`added SFTP user "${user.name}" for ${user.pipelines.join(', ')}`);
  for (const key of user.keys)
    await print(`  key ${key.type} ${key.fingerprint}${key.comment ? ` ${key.comment}` : ''}`);
  if (user.hasPassword) await print('  password set (the user may also sign in with it)');
  await print(`It writes files into /inbound/<pipeline>/ and reads results from /outbound/<pipeline>/.`);
  return 0;
}

export async function runAddKey(name: string, options: DatabaseOnly, command: Command): Promise<number> {
  checkUserName(name);
  const keys = await readKeyFiles(options.sshKey ?? []);
  if (keys.length === 0) {
    throw new UsageError('invalid_argument', 'give the key to add: --ssh-key FILE.pub');
  }
  const added = await withDatabase(
    { databaseUrl: databaseUrlOf(options, command), logger: cliLogger(), migrate: true },
    (db) => addKeys(db.pool, name, keys),
  );
  const kept = keys.length - added;
  await print(
    `added ${added} key${added === 1 ? '' : 's'} to "${name}"${kept > 0 ? ` (${kept} it had already)` : ''}`,
  );
  return 0;
}

export async function runList(options: DatabaseOnly, command: Command): Promise<number> {
  const users = await withDatabase(
    { databaseUrl: databaseUrlOf(options, command), logger: cliLogger() },
    async (db) => {
      try {
        return await listUsers(db.pool);
      } catch (error) {
        // A database not yet migrated this far has no users: an empty list, not an error.
        if (isUndefinedTable(error)) return [];
        throw error;
      }
    },
  );
  if (options.json) {
    for (const user of users) await print(JSON.stringify(toJson(user)));
    return 0;
  }
  if (users.length === 0) {
    await print('no SFTP users yet; add one with: inlet sftp-users add NAME --ssh-key FILE.pub --pipeline P');
    return 0;
  }
  const colours = paint(colourEnabled(process.stdout));
  for (const user of users) {
    const password = user.hasPassword ? ', password set' : '';
    await print(`${colours.bold(user.name)}  pipelines ${user.pipelines.join(', ')}${password}`);
    for (const key of user.keys) {
      await print(`  ${key.type} ${key.fingerprint}${key.comment ? ` ${key.comment}` : ''}`);
    }
  }
  return 0;
}

export async function runRemove(name: string, options: DatabaseOnly, command: Command): Promise<number> {
  checkUserName(name);
  await withDatabase({ databaseUrl: databaseUrlOf(options, command), logger: cliLogger() }, async (db) => {
    try {
      await removeUser(db.pool, name);
    } catch (error) {
      if (isUndefinedTable(error)) {
        throw new InletError('not_found', `no SFTP user "${name}"; list them with: inlet sftp-users list`);
      }
      throw error;
    }
  });
  await print(`removed SFTP user "${name}"`);
  return 0;
}

async function readKeyFiles(files: readonly string[]): Promise<PublicKeyRecord[]> {
  const keys: PublicKeyRecord[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(
        'invalid_ssh_key',
        `cannot read the key file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    keys.push(...parsePublicKeys(text, file));
  }
  return keys;
}

/** The first line of standard input: a password never goes on the command line, where `ps` shows it. */
async function readPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (password.length < 12) {
    throw new UsageError('invalid_argument', '--password-stdin: give a password of 12 characters or more');
  }
  return password;
}

function toJson(user: SftpUser): Record<string, unknown> {
  return {
    name: user.name,
    pipelines: user.pipelines,
    keys: user.keys.map((key) => ({ type: key.type, fingerprint: key.fingerprint, comment: key.comment })),
    password: user.hasPassword,
    createdAt: user.createdAt.toISOString(),
  };
}
