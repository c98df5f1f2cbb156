/**
 * The SFTP door's users (`inlet sftp-users`), stored in PostgreSQL beside the API tokens (migration 010):
 * a name, the pipelines it may write, its public keys, and a password hash only when one was set.
 */
import type pg from 'pg';
import { InletError, UsageError } from '../../errors.js';
import type { PublicKeyRecord } from './keys.js';

/** Letters, digits, `.`, `_` and `-`, up to 64: it is the login name and the host of `sftp://<user>/…`. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface SftpUser {
  name: string;
  pipelines: string[];
  keys: PublicKeyRecord[];
  hasPassword: boolean;
  createdAt: Date;
}

/** What the server needs to sign a user in. */
export interface SftpCredentials {
  name: string;
  pipelines: string[];
  keys: { type: string; blob: string }[];
  passwordHash: string | null;
}

export function checkUserName(name: string): string {
  if (!USER_NAME.test(name)) {
    throw new UsageError(
      'invalid_argument',
      `"${name}" cannot be an SFTP user name: use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. acme-orders)`,
    );
  }
  return name;
}

export async function addUser(
  pool: pg.Pool,
  input: {
    name: string;
    pipelines: readonly string[];
    keys: readonly PublicKeyRecord[];
    passwordHash?: string;
  },
): Promise<SftpUser> {
  const name = checkUserName(input.name);
  const pipelines = [...new Set(input.pipelines)];
  if (pipelines.length === 0) {
    throw new UsageError('invalid_argument', 'an SFTP user needs at least one --pipeline it may write');
  }
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN');
    const inserted = await client.query(
      `INSERT INTO inlet.sftp_users (name, pipelines, password_hash) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO NOTHING`,
      [name, pipelines, input.passwordHash ?? null],
    );
    if (inserted.rowCount === 0) {
      throw new UsageError(
        'invalid_argument',
        `the SFTP user "${name}" exists already; add a key with inlet sftp-users add-key ${name} --ssh-key FILE, or remove it first`,
      );
    }
    await insertKeys(client, name, input.keys);
    await client.query('COMMIT');
  } catch (error) {
    failure = error as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release(failure instanceof UsageError ? undefined : failure);
  }
  return (await getUser(pool, name)) as SftpUser;
}

/** Adds keys to a user; a key it has already is kept once. Returns how many were new. */
export async function addKeys(
  pool: pg.Pool,
  name: string,
  keys: readonly PublicKeyRecord[],
): Promise<number> {
  const exists = await pool.query('SELECT 1 FROM inlet.sftp_users WHERE name = $1', [name]);
  if (exists.rowCount === 0) throw unknownUser(name);
  return insertKeys(pool, name, keys);
}

async function insertKeys(
  db: pg.Pool | pg.PoolClient,
  name: string,
  keys: readonly PublicKeyRecord[],
): Promise<number> {
  let added = 0;
  for (const key of keys) {
    const result = await db.query(
      `INSERT INTO inlet.sftp_user_keys (user_name, key_type, key_blob, comment, fingerprint)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [name, key.type, key.blob, key.comment === '' ? null : key.comment, key.fingerprint],
    );
    added += result.rowCount ?? 0;
  }
  return added;
}

export async function removeUser(pool: pg.Pool, name: string): Promise<void> {
  const result = await pool.query('DELETE FROM inlet.sftp_users WHERE name = $1', [name]);
  if (result.rowCount === 0) throw unknownUser(name);
}

interface UserRow {
  name: string;
  pipelines: string[];
  password_hash: string | null;
  created_at: Date;
  keys: { type: string; blob: string; comment: string | null; fingerprint: string }[];
}

const USER_QUERY = `
  SELECT u.name, u.pipelines, u.password_hash, u.created_at,
         coalesce(json_agg(json_build_object('type', k.key_type, 'blob', k.key_blob, 'comment', k.comment,
                                             'fingerprint', k.fingerprint) ORDER BY k.position)
                  FILTER (WHERE k.key_blob IS NOT NULL), '[]') AS keys
    FROM inlet.sftp_users u LEFT JOIN inlet.sftp_user_keys k ON k.user_name = u.name`;

export async function listUsers(pool: pg.Pool): Promise<SftpUser[]> {
  const { rows } = await pool.query<UserRow>(`${USER_QUERY} GROUP BY u.name ORDER BY u.name`);
  return rows.map(toUser);
}

export async function getUser(pool: pg.Pool, name: string): Promise<SftpUser | undefined> {
  const row = await userRow(pool, name);
  return row === undefined ? undefined : toUser(row);
}

/** The user's keys, pipelines and password hash, read at each sign-in so a removal takes effect at once. */
export async function credentialsOf(pool: pg.Pool, name: string): Promise<SftpCredentials | undefined> {
  const row = await userRow(pool, name);
  if (row === undefined) return undefined;
  return {
    name: row.name,
    pipelines: row.pipelines,
    keys: row.keys.map((key) => ({ type: key.type, blob: key.blob })),
    passwordHash: row.password_hash,
  };
}

async function userRow(pool: pg.Pool, name: string): Promise<UserRow | undefined> {
  const { rows } = await pool.query<UserRow>(`${USER_QUERY} WHERE u.name = $1 GROUP BY u.name`, [name]);
  return rows[0];
}

function toUser(row: UserRow): SftpUser {
  return {
    name: row.name,
    pipelines: row.pipelines,
    keys: row.keys.map((key) => ({ ...key, comment: key.comment ?? '' })),
    hasPassword: row.password_hash !== null,
    createdAt: row.created_at,
  };
}

function unknownUser(name: string): InletError {
  return new InletError('not_found', `no SFTP user "${name}"; list them with: inlet sftp-users list`);
}
